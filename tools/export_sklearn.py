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


def export(model, features):
    from sklearn.linear_model import LinearRegression, LogisticRegression
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
