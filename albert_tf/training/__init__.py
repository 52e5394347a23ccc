"""Training machinery shared by pretraining and every fine-tuning task."""
