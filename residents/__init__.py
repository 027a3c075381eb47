"""What residents send and what they are told: service requests from the form, the hotline and
Open311 become cases in one unit of work (``requests``); the progress a resident may read
of a case, from the fields its steps' forms mark public (``progress``)."""
