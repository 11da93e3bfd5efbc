AUDIT-PROFILE 2 sha256=870c05d256380b1995abc6defc11127d39b2d8b078a6938028c79a218cc2d01f
{
	"format":	"audit-profile",
	"version":	2,
	"tool":	{
		"name":	"audit",
		"version":	"0.1.0"
	},
	"created":	"2026-01-01T00:00:00Z",
	"source":	{
		"path":	"/tmp/tmpbhvudgk2/tiny.csv",
		"sha256":	"629d06e64fc19985d038f958763e44c9070139bfe918141a5d5e9df6a223be9c",
		"rows":	2,
		"columns":	2
	},
	"summary":	{
		"sketch":	"GK/XGBoost weighted quantile summary, exact ranks at its entries (metrics/sketch.h)",
		"k":	1024,
		"bins":	1024,
		"exact_distinct_max":	2048,
		"quantile_anchors":	100
	},
	"columns":	[{
			"name":	"a",
			"type":	"numeric",
			"rows":	2,
			"missing":	0,
			"distinct":	2,
			"exact":	true,
			"max_tie":	0,
			"min":	1.5,
			"max":	2.5,
			"mean":	2,
			"std":	0.5,
			"bins":	{
				"counts":	"1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 