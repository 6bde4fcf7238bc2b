"""latentmodels"""
