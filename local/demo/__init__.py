"""`make demo`: the product's main job on a fresh machine, end to end, checked against the emulator.

1. start Azurite, the ActiveCampaign emulator and the stand-in host (function_app's real entry points);
2. write a Customer Insights export of a sample segment (PROFILES profiles, ~1% invalid, ~1% duplicates);
3. create a connection and a mirror-mode export through the HTTP API; the timer starts the run;
4. show progress, print the summary, and check the emulator's list against the expected emails;
5. write a new snapshot (~1% changed, ~1% new, ~1% gone); the timer's next tick sends only the changes
   and unsubscribes the leavers; check the list's end state again.
The last line starts with `demo: OK`, or the demo exits non-zero saying what is wrong.
"""
