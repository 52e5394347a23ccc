"""Asks an exported SQuAD SavedModel a question, importing only TensorFlow and TF Text.

    python scripts/ask_squad_savedmodel.py EXPORT_DIR "question" "context"
"""

import sys

import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the SentencePiece ops)


def main(export_dir, question, context):
    model = tf.saved_model.load(export_dir)
    serve = model.signatures["serving_default"]
    outputs = serve(question=tf.constant([question]), context=tf.constant([context]))
    print(f"question: {question}")
    for key in sorted(outputs):
        value = outputs[key].numpy()[0]
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        print(f"{key}: {value}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
