"""Human review of machine translations: the review database, the export of corrections,
and the sampling of live requests into the review queue; imports only data_prep."""
