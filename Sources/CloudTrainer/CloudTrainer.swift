// CloudTrainer: the cloud half of CEMA (host only).
