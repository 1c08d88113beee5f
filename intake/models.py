# Intake stores nothing of its own: cases are created through helpdesk's functions.
