"""tf.data helpers every task shares: dynamic padding, input checks, damaged-record diagnosis,
opening cached TFRecords."""
