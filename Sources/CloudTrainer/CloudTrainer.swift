// CloudTrainer: the cloud half of CEMA (host only): TrainableModel, Losses, SGD, CEMAConfig.
