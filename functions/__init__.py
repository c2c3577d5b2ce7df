"""One thin Blueprint per trigger.  Each parses its input, calls one coroutine in shared/, and maps the outcome."""
