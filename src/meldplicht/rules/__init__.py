"""Pure legal rules: dated parameters, the Atw calendar, identifiers, wages and checks.

Nothing in this package touches the database, the network or the clock: every function takes
the date it judges as an argument, so any verdict can be replayed as of any day.
"""
