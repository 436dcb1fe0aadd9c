"""Public, unauthenticated information: the rules employers are held to and their parameters."""
