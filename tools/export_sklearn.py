#!/usr/bin/python3
"""Export a pickled scikit-learn model to the audit model formats (docs/model-formats.md).

usage: /usr/bin/python3 tools/export_sklearn.py MODEL.pkl OUT.json [--features a,b,...]

Supported (Debian python3-sklearn):
  LogisticRegression (binary)                 -> audit-linear, link logit
  LinearRegression (one target)               -> audit-linear, link identity
  DecisionTreeClassifier / Regressor          -> audit-trees (one tree per class for multiclass)
  RandomForestClassifier / Regressor          -> audit-trees, "average": true
  GradientBoostingClassifier / Regressor      -> audit-trees: base_score = the init estimator's raw
                                                 prediction (prior log-odds / log-priors / mean),
                                                 leaf values multiplied by learning_rate
  Pipeline(steps..., estimator above)         -> the estimator's format over the pipeline's raw
                                                 columns with a "preprocess" stage: StandardScaler,
                                                 MinMaxScaler, RobustScaler, SimpleImputer,
                                                 OneHotEncoder, OrdinalEncoder, ColumnTransformer
                                                 (passthrough / drop / remainder), nested Pipelines
Classifiers: binary models give one output, P(classes_[1]); multiclass models one output per class
in classes_ order. Tree splits are scikit-learn's: float32(x) <= threshold ("split": "le_f32").
scikit-learn < 1.3 trees reject missing values, so the export says "missing": "error"; trees that
carry missing_go_to_left (scikit-learn >= 1.3) export it as default_left.
Feature names come from feature_names_in_ (set when the model was fitted on a pandas DataFrame) or
--features; a linear model needs names, a tree model without names is matched by position.
The output is written atomically; numbers are exact (shortest round-trip repr). Exit 2 on error.
"""
import argparse
import json
import math
import os
import pickle
import sys
import tempfile

import numpy as np


class ExportError(Exception):
    pass


def feature_names(model, override, n):
    if override is not None:
        names = [s for s in override.split(",")]
        if len(names) != n or any(s == "" for s in names):
            raise ExportError(f"--features lists {len(names)} names, the model has {n} features")
        return names
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(s) for s in names]
    return None


def check_finite(values, what):
    for v in values:
        if not math.isfinite(v):
            raise ExportError(f"{what} contains a non-finite value")


def export_linear(model, names):
    from sklearn.linear_model import LinearRegression, LogisticRegression
    coef = np.asarray(model.coef_, dtype=float)
    icpt = np.asarray(model.intercept_, dtype=float).reshape(-1)
    if isinstance(model, LogisticRegression):
        if coef.shape[0] != 1 or len(model.classes_) != 2:
            raise ExportError("only binary LogisticRegression is supported")
        link = "logit"
        if getattr(model, "multi_class", "auto") == "multinomial":
            # binary multinomial: predict_proba = softmax([-d, d])[1] = sigmoid(2 d)
            coef = coef * 2.0
            icpt = icpt * 2.0
    elif isinstance(model, LinearRegression):
        if coef.ndim != 1 and coef.shape[0] != 1:
            raise ExportError("only single-target LinearRegression is supported")
        link = "identity"
    else:
        raise ExportError(f"unsupported linear model {type(model).__name__}")
    coef = coef.reshape(-1)
    if names is None:
        raise ExportError("the model has no feature names (fit it on a pandas DataFrame or pass "
                          "--features a,b,...)")
    if len(names) != coef.size:
        raise ExportError(f"{len(names)} feature names for {coef.size} coefficients")
    if len(set(names)) != len(names):
        raise ExportError("duplicate feature names")
    check_finite(coef, "coef_")
    check_finite(icpt, "intercept_")
    return {
        "format": "audit-linear", "version": 1, "link": link,
        "objective": f"sklearn:{type(model).__name__}",
        "intercept": float(icpt[0]),
        "coefficients": {n: float(c) for n, c in zip(names, coef)},
    }


def tree_arrays(est, leaf_value, scale=1.0):
    """One exported tree from a fitted sklearn Tree; leaf_value(node_values) -> value per node."""
    t = est.tree_
    left = t.children_left.astype(int).tolist()
    right = t.children_right.astype(int).tolist()
    value = [float(v) * scale if scale != 1.0 else float(v) for v in leaf_value(t)]
    check_finite(value, "tree values")
    out = {
        "split": "le_f32",
        "left": left, "right": right,
        "feature": [int(f) if l != -1 else -1 for f, l in zip(t.feature.tolist(), left)],
        "threshold": [float(v) if l != -1 else 0.0 for v, l in zip(t.threshold.tolist(), left)],
        "value": value,
        "cover": [float(v) for v in t.weighted_n_node_samples.tolist()],
    }
    mgl = getattr(t, "missing_go_to_left", None)
    if mgl is not None:
        out["default_left"] = [int(v) for v in np.asarray(mgl).tolist()]
    return out


def accepts_nan(model):
    """True when the fitted model predicts a row of NaN instead of raising."""
    try:
        model.predict(np.full((1, int(model.n_features_in_)), np.nan))
    except Exception:   # ValueError: Input X contains NaN (and friends)
        return False
    return True


def proba_column(k):
    def f(t):
        v = np.asarray(t.value)[:, 0, :]          # (nodes, classes): counts or fractions
        s = v.sum(axis=1)
        s[s == 0.0] = 1.0                          # as sklearn's predict_proba normalizer
        return (v[:, k] / s).tolist()
    return f


def regression_value(t):
    return np.asarray(t.value)[:, 0, 0].tolist()


def export_trees(model, names):
    from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                                  RandomForestClassifier, RandomForestRegressor)
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    n_features = int(model.n_features_in_)
    doc = {"format": "audit-trees", "version": 1, "features": names,
           "objective": f"sklearn:{type(model).__name__}"}
    if names is None:
        doc["n_features"] = n_features
    elif len(names) != n_features:
        raise ExportError(f"{len(names)} feature names for {n_features} features")
    if getattr(model, "n_outputs_", 1) != 1:
        raise ExportError("multi-output models are not supported")
    trees = []
    if isinstance(model, (DecisionTreeClassifier, RandomForestClassifier)):
        estimators = [model] if isinstance(model, DecisionTreeClassifier) else model.estimators_
        n_classes = len(model.classes_)
        if n_classes < 2:
            raise ExportError("a classifier with one class")
        outputs = [1] if n_classes == 2 else list(range(n_classes))
        for est in estimators:
            for o, k in enumerate(outputs):
                tr = tree_arrays(est, proba_column(k))
                tr["output"] = o
                trees.append(tr)
        doc.update({"n_outputs": len(outputs), "link": "identity", "is_classifier": True,
                    "average": True, "base_score": [0.0] * len(outputs)})
    elif isinstance(model, (DecisionTreeRegressor, RandomForestRegressor)):
        estimators = [model] if isinstance(model, DecisionTreeRegressor) else model.estimators_
        for est in estimators:
            tr = tree_arrays(est, regression_value)
            tr["output"] = 0
            trees.append(tr)
        doc.update({"n_outputs": 1, "link": "identity", "is_classifier": False,
                    "average": True, "base_score": [0.0]})
    elif isinstance(model, (GradientBoostingClassifier, GradientBoostingRegressor)):
        init = model.init_
        if not (init == "zero" or type(init).__name__ in ("DummyClassifier", "DummyRegressor")):
            raise ExportError(f"gradient boosting with init={type(init).__name__} is not "
                              "supported (only the default prior / 'zero')")
        raw0 = np.asarray(model._raw_predict_init(np.zeros((1, n_features), dtype=np.float32)),
                          dtype=float)[0]
        check_finite(raw0, "initial prediction")
        lr = float(model.learning_rate)
        stages = model.estimators_                   # (n_stages, K)
        K = stages.shape[1]
        for stage in stages:
            for k in range(K):
                tr = tree_arrays(stage[k], regression_value, lr)
                tr["output"] = k
                trees.append(tr)
        if isinstance(model, GradientBoostingClassifier):
            loss = getattr(model, "loss", "log_loss")
            if loss not in ("log_loss", "deviance"):
                raise ExportError(f"GradientBoostingClassifier loss={loss!r} is not supported")
            link = "logit" if K == 1 else "softmax"
            doc.update({"is_classifier": True})
        else:
            link = "identity"
            doc.update({"is_classifier": False})
        doc.update({"n_outputs": K, "link": link, "average": False,
                    "base_score": [float(v) for v in raw0]})
    else:
        raise ExportError(f"unsupported model type {type(model).__name__}")
    # The tree arrays carry missing_go_to_left from scikit-learn 1.3 on, but only some estimators
    # (and versions) route NaN at predict time: ask the model itself.
    has_default = all("default_left" in t for t in trees) and accepts_nan(model)
    if not has_default:
        for t in trees:
            t.pop("default_left", None)
    doc["missing"] = "default" if has_default else "error"
    doc["trees"] = trees
    return doc


# ---- pipelines: a preprocessing stage in front of the estimator -----------------------------
#
# Every transformer supported here is column-wise: each of its outputs depends on one input column.
# So each input of the final estimator is a function of one raw column, tracked as a Col; at the
# end the estimator is rewritten over the raw columns, with a "preprocess" entry per column that
# the audit loader applies (models/prep.c). Numeric steps are kept as the exact double operations
# the transformers perform; the encoders are *probed*: the fitted encoder itself transforms every
# category, a missing value and an unseen one, so drop=, min_frequency / infrequent categories and
# handle_unknown are what scikit-learn does, not a re-implementation.

class Col:
    """One column flowing through the pipeline, as a function of the raw column `raw`."""

    def __init__(self, raw):
        self.raw = raw
        self.ops = []        # numeric ops [op, value] (no encoder)
        self.fill = None     # pending SimpleImputer statistic, not yet turned into an op
        self.cat = None      # encoder output: {"categories", "values", "unknown", "missing", ...}


def _is_missing_marker(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def _numeric_op(col, op, value):
    value = float(value)
    if col.cat is not None:
        f = {"sub": lambda x: x - value, "div": lambda x: x / value,
             "mul": lambda x: x * value, "add": lambda x: x + value}[op]
        c = col.cat
        c["values"] = [f(v) for v in c["values"]]
        c["unknown"] = None if c["unknown"] is None else f(c["unknown"])
        c["missing"] = None if c["missing"] is None else f(c["missing"])
        c["onehot"] = False
        return
    if col.fill is not None:
        col.ops.append(["fill", _number(col.fill, col.raw)])
        col.fill = None
    col.ops.append([op, value])


def _number(v, what):
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ExportError(f"column {what!r}: imputed value {v!r} is not a number, but a numeric "
                          "step follows") from None
    if not math.isfinite(x):
        raise ExportError(f"column {what!r}: non-finite preprocessing value")
    return x


def _check_width(step, cols):
    n = getattr(step, "n_features_in_", None)
    if n is not None and int(n) != len(cols):
        raise ExportError(f"{type(step).__name__} expects {n} columns, the pipeline gives "
                          f"{len(cols)}")


def _imputer(step, cols):
    if getattr(step, "add_indicator", False):
        raise ExportError("SimpleImputer(add_indicator=True) is not supported")
    if not _is_missing_marker(step.missing_values):
        raise ExportError("SimpleImputer with missing_values other than NaN/None is not supported")
    stats = list(step.statistics_)
    if len(stats) != len(cols) or any(_is_missing_marker(v) for v in stats):
        raise ExportError("SimpleImputer dropped a column that was empty in fitting")
    for col, v in zip(cols, stats):
        if col.cat is not None:
            raise ExportError("SimpleImputer after an encoder is not supported")
        if col.ops:
            col.ops.append(["fill", _number(v, col.raw)])
        elif col.fill is None:
            col.fill = v.item() if hasattr(v, "item") else v
    return cols


def _probe_value(categories):
    if all(isinstance(c, str) for c in categories):
        return "\u0000audit-unseen-category"
    return float(max(categories)) + 1.5


def _encoder(step, cols):
    from sklearn.preprocessing import OneHotEncoder
    import pandas as pd
    import warnings
    onehot = isinstance(step, OneHotEncoder)
    for col in cols:
        if col.cat is not None or col.ops:
            raise ExportError(f"{type(step).__name__} after a numeric step is not supported")
    names = list(getattr(step, "feature_names_in_", [f"x{i}" for i in range(len(cols))]))
    cats = []
    for i, c in enumerate(step.categories_):
        c = [v.item() if hasattr(v, "item") else v for v in c]
        c = [v for v in c if not _is_missing_marker(v)]
        if not c or not (all(isinstance(v, str) for v in c) or
                         all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in c)):
            raise ExportError(f"column {cols[i].raw!r}: categories must be all strings or all "
                              "numbers")
        cats.append(c)
    base = [c[0] for c in cats]

    def run(i, values):
        rows = [list(base) for _ in values]
        for r, v in zip(rows, values):
            r[i] = v
        X = pd.DataFrame(rows, columns=names, dtype=object)
        if hasattr(step, "feature_names_in_"):
            for j, c in enumerate(cats):
                if not isinstance(c[0], str):
                    X[names[j]] = pd.to_numeric(X[names[j]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = step.transform(X)
        if hasattr(out, "toarray"):
            out = out.toarray()
        return np.asarray(out, dtype=float)

    width = run(0, [base[0]]).shape[1]
    per_col = getattr(step, "_n_features_outs", None) if onehot else [1] * len(cols)
    if per_col is None or sum(per_col) != width:
        raise ExportError(f"{type(step).__name__}: cannot tell which outputs belong to which "
                          "column")
    out, offset = [], 0
    for i, col in enumerate(cols):
        known = run(i, cats[i])[:, offset:offset + per_col[i]]
        try:
            unknown = run(i, [_probe_value(cats[i])])[0, offset:offset + per_col[i]]
        except Exception:     # handle_unknown="error"
            unknown = None
        if col.fill is not None:
            missing = run(i, [col.fill])[0, offset:offset + per_col[i]]
        else:
            try:
                missing = run(i, [np.nan])[0, offset:offset + per_col[i]]
            except Exception:
                missing = None
        for k in range(per_col[i]):
            o = Col(col.raw)
            o.cat = {"categories": cats[i], "values": [float(v) for v in known[:, k]],
                     "unknown": None if unknown is None else float(unknown[k]),
                     "missing": None if missing is None else float(missing[k]),
                     "onehot": onehot, "group": (id(step), i)}
            for v in [*o.cat["values"], o.cat["unknown"], o.cat["missing"]]:
                if v is not None and not math.isfinite(v):
                    raise ExportError(f"column {col.raw!r}: the encoder gives a non-finite value "
                                      "(use a finite unknown_value / encoded_missing_value)")
            out.append(o)
        offset += per_col[i]
    return out


def _columns_of(ct, spec, n):
    """Indices of the ColumnTransformer's inputs selected by `spec`."""
    names = list(getattr(ct, "feature_names_in_", []))
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, slice):
        return list(range(n))[spec]
    spec = list(np.asarray(spec).tolist()) if not callable(spec) else None
    if spec is None:
        raise ExportError("ColumnTransformer with a callable column selector is not supported")
    if spec and all(isinstance(v, bool) for v in spec):
        return [i for i, b in enumerate(spec) if b]
    out = []
    for v in spec:
        if isinstance(v, str):
            if v not in names:
                raise ExportError(f"ColumnTransformer column {v!r} is not an input")
            out.append(names.index(v))
        else:
            out.append(int(v))
    return out


def transform_cols(step, cols):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (MinMaxScaler, OneHotEncoder, OrdinalEncoder,
                                       RobustScaler, StandardScaler)
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return cols
    if isinstance(step, Pipeline):
        for _, s in step.steps:
            cols = transform_cols(s, cols)
        return cols
    if isinstance(step, ColumnTransformer):
        _check_width(step, cols)
        out = []
        for _, trans, spec in step.transformers_:
            if isinstance(trans, str) and trans == "drop":
                continue
            idx = _columns_of(step, spec, len(cols))
            if idx:
                out += transform_cols(trans, [cols[i] for i in idx])
        return out
    _check_width(step, cols)
    if isinstance(step, MinMaxScaler) and step.clip:
        raise ExportError("MinMaxScaler(clip=True) is not supported")
    # each scaler as the in-place double operations of its transform()
    chain = (
        [("sub", step.mean_ if step.with_mean else None),
         ("div", step.scale_ if step.with_std else None)] if isinstance(step, StandardScaler) else
        [("sub", step.center_ if step.with_centering else None),
         ("div", step.scale_ if step.with_scaling else None)] if isinstance(step, RobustScaler) else
        [("mul", step.scale_), ("add", step.min_)] if isinstance(step, MinMaxScaler) else None)
    if chain is not None:
        for i, col in enumerate(cols):
            for op, arr in chain:
                if arr is not None:
                    _numeric_op(col, op, arr[i])
        return cols
    if isinstance(step, SimpleImputer):
        return _imputer(step, cols)
    if isinstance(step, (OneHotEncoder, OrdinalEncoder)):
        return _encoder(step, cols)
    raise ExportError(f"unsupported pipeline step {type(step).__name__}")


def _prep_cat(c, values, unknown, missing):
    return {"categories": c["categories"], "values": values, "unknown": unknown,
            "missing": missing}


def _group_by_raw(cols, raw_names):
    groups = {}
    for k, col in enumerate(cols):
        groups.setdefault(col.raw, []).append(k)
    order = [r for r in raw_names if r in groups]
    for r, ks in groups.items():
        cats = [cols[k].cat for k in ks]
        if len(ks) > 1 and (any(c is None for c in cats) or
                            len({c["group"] for c in cats}) != 1):
            raise ExportError(f"column {r!r} feeds more than one transformer; not supported")
    return order, groups


def _numeric_prep(col):
    ops = list(col.ops)
    if col.fill is not None:
        ops.append(["fill", _number(col.fill, col.raw)])
    return {"ops": ops} if ops else None


def pipeline_linear(doc, cols, raw_names):
    """Rewrite an audit-linear document over the pipeline's raw columns."""
    w = list(doc["coefficients"].values())
    order, groups = _group_by_raw(cols, raw_names)
    coef, prep, icpt = {}, {}, doc["intercept"]
    for r in order:
        ks = groups[r]
        col = cols[ks[0]]
        if col.cat is None:
            ops = list(col.ops)
            fill = col.fill
            # fold an affine chain behind an optional imputer into the coefficient: the column
            # keeps its raw scale (linear SHAP on the original scale, values shown as read)
            if ops and ops[0][0] == "fill":
                fill, ops = ops[0][1], ops[1:]
            if all(op != "fill" for op, _ in ops):
                a, b = 1.0, 0.0
                for op, v in ops:
                    if op == "sub":
                        b -= v
                    elif op == "div":
                        a, b = a / v, b / v
                    elif op == "mul":
                        a, b = a * v, b * v
                    else:
                        b += v
                coef[r] = w[ks[0]] * a
                icpt += w[ks[0]] * b
                if fill is not None:
                    prep[r] = {"ops": [["fill", _number(fill, r)]]}
            else:
                coef[r] = w[ks[0]]
                prep[r] = _numeric_prep(col)
            continue
        # categorical: the column's value is its summed contribution, coefficient 1
        c0 = col.cat
        n = len(c0["categories"])
        values = [sum(w[k] * cols[k].cat["values"][i] for k in ks) for i in range(n)]
        unk = None if any(cols[k].cat["unknown"] is None for k in ks) else \
            sum(w[k] * cols[k].cat["unknown"] for k in ks)
        mis = None if any(cols[k].cat["missing"] is None for k in ks) else \
            sum(w[k] * cols[k].cat["missing"] for k in ks)
        coef[r] = 1.0
        prep[r] = _prep_cat(c0, values, unk, mis)
    doc["intercept"] = icpt
    doc["coefficients"] = coef
    doc["preprocess"] = {k: v for k, v in prep.items() if v is not None}
    check_finite(list(coef.values()) + [icpt], "folded coefficients")
    return doc


def _code_of(vec, rows):
    """Category code whose dummy vector equals vec; -1 for all zeros; None: not representable."""
    if vec is None:
        return None
    for i, r in enumerate(rows):
        if r == vec:
            return i
    if all(v == 0.0 for v in vec):
        return -1
    raise ExportError("an unseen or missing category encodes as no single category")


def pipeline_trees(doc, cols, raw_names):
    """Rewrite an audit-trees document over the raw columns: one-hot splits become category-set
    splits on the column's category code (left iff the code is in the set)."""
    order, groups = _group_by_raw(cols, raw_names)
    index = {r: j for j, r in enumerate(order)}
    prep, setof = {}, {}
    for r in order:
        ks = groups[r]
        col = cols[ks[0]]
        if col.cat is None:
            p = _numeric_prep(col)
            if p is not None:
                prep[r] = p
            continue
        c0 = col.cat
        if not c0["onehot"]:
            if len(ks) != 1:
                raise ExportError(f"column {r!r}: several ordinal outputs")
            prep[r] = _prep_cat(c0, c0["values"], c0["unknown"], c0["missing"])
            continue
        n = len(c0["categories"])
        rows = [tuple(cols[k].cat["values"][i] for k in ks) for i in range(n)]
        if any(v not in (0.0, 1.0) for row in rows for v in row):
            raise ExportError(f"column {r!r}: one-hot values other than 0/1")
        unk = None if c0["unknown"] is None else \
            tuple(cols[k].cat["unknown"] for k in ks)
        mis = None if c0["missing"] is None else tuple(cols[k].cat["missing"] for k in ks)
        prep[r] = _prep_cat(c0, [float(i) for i in range(n)], _code_of(unk, rows),
                            _code_of(mis, rows))
        for k in ks:
            setof[k] = [i for i in range(n) if cols[k].cat["values"][i] == 1.0]
    for t in doc["trees"]:
        sets = []
        for i, f in enumerate(t["feature"]):
            leaf = t["left"][i] == -1
            if leaf:
                t["feature"][i] = -1
                sets.append(None)
                continue
            t["feature"][i] = index[cols[f].raw]
            if f not in setof:
                sets.append(None)
                continue
            thr = t["threshold"][i]
            if not 0.0 <= thr < 1.0:
                raise ExportError(f"one-hot split with threshold {thr}")
            # dummy <= thr (left) iff the dummy is 0 iff the code is not in the set: the set
            # goes to the original right child
            sets.append(setof[f])
            t["left"][i], t["right"][i] = t["right"][i], t["left"][i]
            t["threshold"][i] = 0.0
            if "default_left" in t:
                t["default_left"][i] = 0
        if any(s is not None for s in sets):
            t["categories"] = sets
    doc["features"] = order
    doc.pop("n_features", None)
    doc["preprocess"] = prep
    return doc


def export_pipeline(pipe, features):
    steps = pipe.steps
    est = steps[-1][1]
    n = getattr(pipe, "n_features_in_", None)
    if n is None:
        raise ExportError("the pipeline is not fitted")
    raw = feature_names(pipe, features, int(n))
    if raw is None:
        raise ExportError("the pipeline has no column names (fit it on a pandas DataFrame or "
                          "pass --features a,b,...)")
    cols = [Col(r) for r in raw]
    for _, s in steps[:-1]:
        cols = transform_cols(s, cols)
    if len(cols) != int(est.n_features_in_):
        raise ExportError(f"the preprocessing gives {len(cols)} columns, the estimator expects "
                          f"{est.n_features_in_}")
    tnames = [f"t{i}" for i in range(len(cols))]
    from sklearn.linear_model import LinearRegression, LogisticRegression
    if isinstance(est, (LinearRegression, LogisticRegression)):
        doc = pipeline_linear(export_linear(est, tnames), cols, raw)
    else:
        doc = pipeline_trees(export_trees(est, tnames), cols, raw)
    doc["objective"] = "sklearn:Pipeline(" + ", ".join(type(s).__name__ for _, s in steps) + ")"
    return doc


def export(model, features):
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import Pipeline
    if isinstance(model, Pipeline):
        return export_pipeline(model, features)
    n = getattr(model, "n_features_in_", None)
    if n is None:
        raise ExportError(f"{type(model).__name__} is not a fitted scikit-learn model")
    names = feature_names(model, features, int(n))
    if isinstance(model, (LinearRegression, LogisticRegression)):
        return export_linear(model, names)
    return export_trees(model, names)


def load(path):
    try:
        import joblib
        return joblib.load(path)
    except ImportError:
        with open(path, "rb") as f:
            return pickle.load(f)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="export_sklearn.py",
                                 description="Export a pickled scikit-learn model for audit.")
    ap.add_argument("model", help="pickled model (pickle or joblib)")
    ap.add_argument("out", help="output JSON file")
    ap.add_argument("--features", help="comma-separated feature names, in the model's order")
    a = ap.parse_args(argv)
    try:
        model = load(a.model)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is an input error
        print(f"export_sklearn: {a.model}: cannot load: {e}", file=sys.stderr)
        return 2
    try:
        doc = export(model, a.features)
        text = json.dumps(doc, allow_nan=False)
    except (ExportError, ValueError) as e:
        print(f"export_sklearn: {a.model}: {e}", file=sys.stderr)
        return 2
    d = os.path.dirname(os.path.abspath(a.out))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".export_sklearn.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.write("\n")
        os.replace(tmp, a.out)
    except OSError as e:
        os.unlink(tmp)
        print(f"export_sklearn: {a.out}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
