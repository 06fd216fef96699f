"""The stub's state and rules, free of HTTP (as moto's models are): records and their
checks, SOQL cursors, Bulk 2.0 jobs, and the backend that holds them with the sessions and
fault rules. The responses read and change them; nothing here renders the wire format."""
