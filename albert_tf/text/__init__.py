"""Raw-text models: ALBERT with its in-graph tokenizer, trained with `model.fit`."""

from albert_tf.text.multiple_choice import MultipleChoice
from albert_tf.text.multiple_choice_preprocessor import MultipleChoicePreprocessor
from albert_tf.text.preprocessor import AlbertTextPreprocessor
from albert_tf.text.question_answerer import QuestionAnswerer
from albert_tf.text.text_classifier import TextClassifier

__all__ = ["AlbertTextPreprocessor", "MultipleChoice", "MultipleChoicePreprocessor",
           "QuestionAnswerer", "TextClassifier"]
