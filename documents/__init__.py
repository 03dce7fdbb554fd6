"""Documents and markup: inline formatting carried across translation, and file formats read into
segments and written back with their structure."""
