"""Translating text with a model, by Sockeye or CTranslate2, and converting one to the other; imports only data_prep."""
