"""Motion HMR example: model, config, losses and the training loop built on simcomp."""
