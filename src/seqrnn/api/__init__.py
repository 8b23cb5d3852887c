"""What users load and call: trained language models, the sentiment estimator, evaluation."""
