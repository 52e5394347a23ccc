"""Official evaluation metrics (SQuAD in squad_metrics, GLUE/RACE in classification_metrics)."""
