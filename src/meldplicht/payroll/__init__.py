"""payroll."""
