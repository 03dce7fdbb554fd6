"""`s2s aws`: pushing the image, training, deploying and capturing on SageMaker through boto3; imports
seq2seq, review and data_prep, never serve."""
