#!/usr/bin/python3
"""Write the --categories file (docs/model-formats.md "Categorical features") of a model trained
with native categorical splits: {"column": [categories in code order], ...}, each list as pandas
holds it (series.cat.categories: the code of a category is its index there).

usage: /usr/bin/python3 tools/export_categories.py SOURCE OUT.json [--columns a,b,...]

SOURCE is one of
  DATA.pkl            a pickled pandas DataFrame (DataFrame.to_pickle) of the training data: every
                      column of dtype "category" (or those of --columns)
  DATA.csv            a CSV of the training data with --columns: the columns as
                      df[c].astype("category") codes them (the sorted distinct values; numbers
                      stay numbers), which is what the model saw when it was trained that way
A model needs the file when it does not keep its categories: XGBoost 1.x/2.x/3.0 JSON. LightGBM
files with pandas_categorical and XGBoost >= 3.1 JSON (model.cats) carry them, and audit reads them.
Numbers stay numbers ([10, 20, 30]); other categories are written as text (str()).
The output is written atomically; exit 2 on error with the reason.
"""
import argparse
import json
import math
import os
import pickle
import sys
import tempfile


class ExportError(Exception):
    pass


def plain(v):
    """A category as JSON holds it: int or float for numbers, else its text."""
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()   # numpy scalar
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ExportError(f"category {v!r} is not a finite number")
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    return str(v)


def cat_list(name, cats):
    out = [plain(v) for v in cats]
    if not out:
        raise ExportError(f"column {name!r} has no categories")
    kinds = {isinstance(v, str) for v in out}
    if len(kinds) > 1:
        raise ExportError(f"column {name!r} mixes text and number categories")
    if len(set(out)) != len(out):
        raise ExportError(f"column {name!r} lists a category twice (as written: {out})")
    return out


def from_frame(df, columns):
    import pandas as pd
    if columns is None:
        columns = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
        if not columns:
            raise ExportError("the DataFrame has no column of dtype 'category' "
                              "(give --columns to code columns as astype('category') would)")
    out = {}
    for c in columns:
        if c not in df.columns:
            raise ExportError(f"no column {c!r} in the data (columns: {', '.join(map(str, df.columns))})")
        s = df[c]
        if not isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype("category")
        out[str(c)] = cat_list(c, s.cat.categories)
    return out


def load(source, columns):
    if source.lower().endswith(".csv"):
        import pandas as pd
        if columns is None:
            raise ExportError("a CSV holds no category dtypes: give --columns")
        return from_frame(pd.read_csv(source, keep_default_na=True), columns)
    try:
        with open(source, "rb") as f:
            obj = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
        raise ExportError(f"cannot read {source}: {e}")
    if not (hasattr(obj, "columns") and hasattr(obj, "dtypes")):
        raise ExportError(f"the pickle holds a {type(obj).__name__}, not a pandas DataFrame "
                          "(a model does not keep its categories before XGBoost 3.1: export "
                          "them from the training DataFrame)")
    return from_frame(obj, columns)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("source")
    p.add_argument("out")
    p.add_argument("--columns", help="comma-separated columns (default: the category columns)")
    a = p.parse_args(argv)
    cols = [c for c in a.columns.split(",") if c] if a.columns else None
    try:
        doc = load(a.source, cols)
    except ExportError as e:
        print(f"export_categories: {a.source}: {e}", file=sys.stderr)
        return 2
    d = os.path.dirname(os.path.abspath(a.out))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".export_categories.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, a.out)
    except OSError as e:
        os.unlink(tmp)
        print(f"export_categories: {a.out}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
