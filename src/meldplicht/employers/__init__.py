"""Employers: the organisations that notify, bound to one KvK number each."""
