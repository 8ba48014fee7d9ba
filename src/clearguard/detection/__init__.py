"""Threat and intrusion detection over staff activity: the activity store, Sigma rules, the anomaly
model, alerts with triage and responses, checks at the API edge, evaluation on simulated attacks."""
