"""What every albert_tf layer and model must pass, after keras-hub's `run_serialization_test`.

`run_serialization_test(cls, kwargs, call)` builds `cls(**kwargs)` and checks that
  1. every named constructor argument is in `get_config()` (or listed, with the reason,
     in `carried_by`: e.g. a model's `dropout` settings live in its serialised encoder),
     with the value given when it is a plain value;
  2. the config survives JSON, and `from_config` and Keras' registered-name
     deserialisation (`serialize_keras_object` -> JSON -> `deserialize_keras_object`)
     both give an object whose config is the same JSON;
  3. with the original's weights set, the revived object gives the same outputs.
`run_saving_test(model, call, path)` saves a `.keras` file and loads it with
`keras.saving.load_model` (registered names only, no custom_objects): same config,
same weights, same outputs.
"""

import inspect
import json

import keras
import numpy as np

PLAIN = (bool, int, float, str, type(None))


def _outputs(result):
    return [np.asarray(x) for x in keras.tree.flatten(result)]


def assert_same_outputs(want, got, atol=0.0):
    want, got = _outputs(want), _outputs(got)
    assert len(want) == len(got)
    for a, b in zip(want, got):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), atol=atol,
                                   rtol=0)


def constructor_arguments(cls):
    """Named parameters of cls.__init__ (not self, *args, **kwargs)."""
    return [name for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def config_json(instance):
    return json.dumps(instance.get_config(), sort_keys=True)


def run_serialization_test(cls, kwargs, call, carried_by=None, atol=0.0):
    """Returns (original, revived) after the checks above.

    Args:
        cls: the layer or model class.
        kwargs: constructor arguments, best all different from their defaults.
        call: fn(instance) -> outputs (builds the instance on first use).
        carried_by: {argument: why it is not in this class's own config}.
    """
    carried_by = carried_by or {}
    original = cls(**kwargs)
    want = call(original)
    config = original.get_config()

    for name in constructor_arguments(cls):
        if name in carried_by:
            continue
        assert name in config, (f"{cls.__name__}.get_config() drops constructor argument "
                                f"{name!r}")
        if name in kwargs and isinstance(kwargs[name], PLAIN):
            assert config[name] == kwargs[name], (cls.__name__, name, config[name])
    for name in carried_by:
        assert name in constructor_arguments(cls), f"{cls.__name__} has no argument {name!r}"

    text = json.dumps(config, sort_keys=True)
    revived_by_class = cls.from_config(json.loads(text))
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(original)))
    revived_by_name = keras.saving.deserialize_keras_object(serialized)
    for revived in (revived_by_class, revived_by_name):
        assert type(revived) is cls
        assert config_json(revived) == text
        call(revived)  # builds
        revived.set_weights(original.get_weights())
        assert_same_outputs(want, call(revived), atol=atol)
    return original, revived_by_class


def run_saving_test(model, call, path, atol=0.0):
    """.keras save and load (no custom_objects): same config, weights and outputs."""
    want = call(model)
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    assert type(loaded) is type(model)
    assert config_json(loaded) == config_json(model)
    assert len(loaded.weights) == len(model.weights)
    for a, b in zip(model.weights, loaded.weights):
        assert a.path == b.path
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))
    assert_same_outputs(want, call(loaded), atol=atol)
    return loaded
