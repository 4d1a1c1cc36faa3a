"""A Keras model seen from outside, as plain data: a short description, and its layers and weights."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["describe", "export_model", "leaf_layers"]




def _layer_record(layer: Any) -> dict[str, Any]:
    config: dict[str, Any] = {}
    try:
        config = layer.get_config()
    except Exception:
        pass
    activation = config.get("activation")
    try:
        output_shape = list(layer.output.shape) if hasattr(layer, "output") else None
    except Exception:
        output_shape = None
    return {
        "class": type(layer).__name__,
        "name": str(getattr(layer, "name", "")),
        "units": config.get("units") if isinstance(config.get("units"), int) else None,
        "activation": activation if isinstance(activation, str) else None,
        "params": int(layer.count_params()) if getattr(layer, "built", False) else 0,
        "output_shape": output_shape,
    }


def leaf_layers(model: Any, limit: int | None = None) -> list[Any]:
    """The model's layers in order, nested models flattened (at most `limit` of them)."""
    found: list[Any] = []

    def walk(layer: Any) -> None:
        inner = getattr(layer, "layers", None)
        if isinstance(inner, list) and inner:
            for sub in inner:
                walk(sub)
        elif limit is None or len(found) < limit:
            found.append(layer)

    for top in list(model.layers):
        walk(top)
    return found


def describe(value: Any) -> dict[str, Any]:
    """A plain description of an object that stays in the child (layers for a model)."""
    if hasattr(value, "layers") and hasattr(value, "count_params"):
        layers = [_layer_record(layer) for layer in leaf_layers(value)]

        def shape(attr: str) -> list[Any] | None:
            for getter in (lambda: getattr(value, attr).shape, lambda: getattr(value, attr + "_shape")):
                try:
                    return [None if d is None else int(d) for d in getter()]
                except Exception:  # noqa: BLE001 - not built yet, or a learner's odd model
                    continue
            return None

        try:
            params = int(value.count_params())
        except Exception:
            params = -1
        return {
            "kind": "keras_model",
            "layers": layers,
            "params": params,
            "input_shape": shape("input"),
            "output_shape": shape("output"),
            "compiled": bool(getattr(value, "optimizer", None) is not None),
        }
    try:
        text = repr(value)[:200]
    except Exception:  # noqa: BLE001 - a learner object whose repr raises
        text = ""
    return {"kind": "object", "repr": text}


#: What export_model sends at most: layers, and items and depth of a plain config.
EXPORT_MAX_LAYERS, EXPORT_MAX_ITEMS, EXPORT_MAX_DEPTH = 65, 256, 6


def _plain_config(value: Any, depth: int = 0) -> Any:
    """Only plain JSON values survive (anything else is dropped: ``_DROP``), bounded in size."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()  # an epsilon or a scale kept as a numpy scalar
    if value is None or type(value) in (bool, int, float):
        return value
    if type(value) is str:
        return value[:200]
    if depth >= EXPORT_MAX_DEPTH:
        return _DROP
    if isinstance(value, (list, tuple)):  # Keras keeps lists as its own tracked list type
        items = [_plain_config(v, depth + 1) for v in list(value)[:EXPORT_MAX_ITEMS]]
        return [v for v in items if v is not _DROP]
    if isinstance(value, dict):
        pairs = [(k[:100], _plain_config(v, depth + 1)) for k, v in list(value.items())[:EXPORT_MAX_ITEMS]
                 if type(k) is str]
        return {k: v for k, v in pairs if v is not _DROP}
    return _DROP


_DROP = object()


def export_model(value: Any, max_values: int) -> dict[str, Any]:
    """A Keras model as plain data, for the parent to rebuild and evaluate itself.

    For each layer (nested models flattened, in order): the class name as Python reports
    it, its ``get_config()`` cut to plain JSON values, the shapes of its weights and, when
    the whole model has at most `max_values` numbers, the weights as float32 arrays. The
    parent trusts none of it except as numbers to evaluate with its own forward pass.
    """
    if not (hasattr(value, "layers") and hasattr(value, "get_weights")):
        raise TypeError(f"a {type(value).__name__} is not a Keras model")
    found = leaf_layers(value, EXPORT_MAX_LAYERS)
    shapes = [[[int(d) for d in w.shape] for w in layer.weights] for layer in found]
    total = sum(int(np.prod(shape)) for layer_shapes in shapes for shape in layer_shapes)
    records = []
    for layer, layer_shapes in zip(found, shapes):
        try:
            config = _plain_config(layer.get_config())
        except Exception:  # noqa: BLE001 - a layer without a config is reported as such
            config = {}
        weights = None
        if total <= max_values:
            weights = [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
        records.append({"class": type(layer).__name__[:100], "name": str(getattr(layer, "name", ""))[:100],
                        "config": config if type(config) is dict else {},
                        "weight_shapes": layer_shapes, "weights": weights})
    return {"class": type(value).__name__[:100], "layers": records}
