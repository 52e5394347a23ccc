"""Calls an exported SavedModel from the command line and prints JSON.

  python -m albert_tf.export.query --export_dir=export/squad2/1 \\
      --input question="Which NFL team won Super Bowl 50?" \\
      --input context@=super_bowl_50.txt

`--input NAME=TEXT` feeds a batch of one string (`NAME@=PATH`: the text of a
file); `--inputs_json='{"options": [["a", "b", "c", "d"]]}'` feeds any inputs
as nested lists. Values take the dtypes the signature declares. The model runs
through `tf.saved_model.load`, needing only tensorflow and tensorflow_text.
"""

import argparse
import json
import sys


def parse_inputs(pairs, inputs_json):
    """`NAME=TEXT` / `NAME@=PATH` strings and a JSON object -> {name: nested list}."""
    inputs = json.loads(inputs_json) if inputs_json else {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ValueError(f"--input {pair!r}: expected NAME=TEXT or NAME@=PATH")
        name, value = pair.split("=", 1)
        if name.endswith("@"):
            name = name[:-1]
            with open(value, encoding="utf-8") as f:
                value = f.read()
        inputs[name] = [value]
    return inputs


def _jsonable(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def query(export_dir, inputs, signature="serving_default"):
    """Runs one signature of a SavedModel; returns {output: nested lists}."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the SentencePiece op)

    function = tf.saved_model.load(export_dir).signatures[signature]
    specs = function.structured_input_signature[1]
    unknown = sorted(set(inputs) - set(specs))
    missing = sorted(set(specs) - set(inputs))
    if unknown or missing:
        raise ValueError(f"signature {signature!r} of {export_dir} takes "
                         f"{sorted(specs)}; unknown inputs {unknown}, missing {missing}")
    outputs = function(**{name: tf.constant(inputs[name], dtype=spec.dtype)
                          for name, spec in specs.items()})
    return {name: _jsonable(value.numpy().tolist()) for name, value in outputs.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export_dir", required=True)
    parser.add_argument("--signature", default="serving_default")
    parser.add_argument("--input", action="append", metavar="NAME=TEXT")
    parser.add_argument("--inputs_json", default=None)
    args = parser.parse_args(argv)
    result = query(args.export_dir, parse_inputs(args.input, args.inputs_json),
                   args.signature)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return result


if __name__ == "__main__":
    main()
