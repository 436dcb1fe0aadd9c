"""Personal data: retention (anonymise after the legal term), key rotation, data-subject export."""
