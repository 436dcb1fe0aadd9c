"""What the employer is told between notices: actions needed and the work after each sweep."""
