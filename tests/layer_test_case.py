"""What every albert_tf layer and model must pass, after keras-hub's test_case.py
(`run_serialization_test`, `run_precision_test`, `run_model_saving_test`, its variable
sequence length and tf.data checks).

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
`run_precision_test(cls, make_kwargs, call)`: under `mixed_bfloat16` every sublayer
computes in bfloat16 but LayerNorm and softmax (float32), variables float32, outputs
within bfloat16's precision of float32's.
`run_sequence_length_test(instance, call)`: one instance, two sequence lengths.
`run_fit_predict_test(model, inputs)`: `predict` and `fit` on a tf.data dataset.
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


from keras.src.models.functional import Functional  # pylint: disable=wrong-import-position

# keras-hub's run_precision_test: under a mixed policy these compute in float32 anyway.
FLOAT32_SUBLAYERS = (keras.layers.LayerNormalization, keras.layers.Softmax)


def _is_float(dtype):
    return keras.backend.is_float_dtype(keras.backend.standardize_dtype(dtype))  # bfloat16 too


def _float_outputs(result):
    return [x for x in _outputs(result) if _is_float(x.dtype)]


def run_precision_test(cls, make_kwargs, call, dtype="mixed_bfloat16", rtol=0.05):
    """keras-hub's `run_precision_test`: `cls(**make_kwargs(dtype))` under `dtype`
    (a mixed policy) has every sublayer computing in the policy's compute dtype (bfloat16)
    except LayerNorm and softmax (float32), every variable in float32, and with the weights
    of `cls(**make_kwargs("float32"))` gives its float outputs to bfloat16's precision
    (`rtol` of each output's largest magnitude). Returns the mixed-precision instance."""
    policy = keras.DTypePolicy(dtype)
    reference = cls(**make_kwargs("float32"))
    want = call(reference)
    mixed = cls(**make_kwargs(dtype))
    call(mixed)  # builds
    mixed.set_weights(reference.get_weights())
    got = call(mixed)
    for sublayer in mixed._flatten_layers(include_self=True):  # pylint: disable=protected-access
        if isinstance(sublayer, (keras.layers.InputLayer, Functional)):
            continue  # compute nothing themselves (a functional model keeps no policy)
        compute = "float32" if isinstance(sublayer, FLOAT32_SUBLAYERS) else policy.compute_dtype
        where = f"{cls.__name__}: sublayer {sublayer.name!r} ({type(sublayer).__name__})"
        assert sublayer.compute_dtype == compute, f"{where} computes in {sublayer.compute_dtype}"
        assert sublayer.variable_dtype == policy.variable_dtype, (
            f"{where} keeps variables in {sublayer.variable_dtype}")
    for weight in mixed.weights:
        if _is_float(weight.dtype):
            assert weight.dtype == policy.variable_dtype, (cls.__name__, weight.path,
                                                           weight.dtype)
    want, got = _float_outputs(want), _float_outputs(got)
    assert len(want) == len(got)
    for a, b in zip(want, got):
        assert a.shape == b.shape
        assert np.isfinite(b.astype(np.float32)).all(), cls.__name__
        scale = max(float(np.abs(a).max()), 1e-3)
        np.testing.assert_allclose(b.astype(np.float32), a, atol=rtol * scale, rtol=0)
    return mixed


def run_sequence_length_test(instance, call, lengths=(7, 5)):
    """keras-hub's variable sequence length check: the same built `instance` called at
    `lengths[0]` and then at `lengths[1]` (`call(instance, length)`) gives at each length
    the shapes of the first with the length replaced, and at the second the outputs of a
    copy (same config and weights) called at that length first: nothing of the first
    length stays in the layer."""
    first, second = lengths
    shapes = [x.shape for x in _outputs(call(instance, first))]
    got = call(instance, second)
    assert [x.shape for x in _outputs(got)] == [
        tuple(second if d == first else d for d in shape) for shape in shapes]
    copy = type(instance).from_config(instance.get_config())
    call(copy, second)  # builds at the second length
    copy.set_weights(instance.get_weights())
    assert_same_outputs(call(copy, second), got, atol=1e-5)


def run_fit_predict_test(model, inputs, batch_size=1):
    """keras-hub's tf.data check: `model.predict` on a batched `tf.data.Dataset` of
    `inputs` gives the outputs of calling the model on them, and one epoch of `fit` on
    (inputs, zeros like the float outputs) with a squared-output loss runs, gives a finite
    loss and moves the weights."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    want = model(inputs, training=False)
    dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(batch_size)
    assert_same_outputs(want, model.predict(dataset, verbose=0), atol=1e-5)

    def squared(y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_pred - y_true))

    want = keras.tree.lists_to_tuples(want)  # tf.data stacks a list into one tensor
    losses = keras.tree.map_structure(
        lambda x: squared if _is_float(x.dtype) else None, want)
    targets = keras.tree.map_structure(lambda x: np.zeros(x.shape, np.float32), want)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=losses)
    before = [np.asarray(w) for w in model.trainable_weights]
    history = model.fit(tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(batch_size),
                        epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all(), history.history
    moved = [not np.array_equal(a, np.asarray(w))
             for a, w in zip(before, model.trainable_weights)]
    assert any(moved), f"{type(model).__name__}: fit moved no weight"
