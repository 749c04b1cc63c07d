"""Evidence: what a grade cell's check looked at, carried from the student's kernel to the judge.

``write`` runs inside the untrusted kernel and saves plain records (numbers, model files,
statistics, fingerprints); ``read`` runs in the judge and loads them back; ``records`` are
the plain types both sides share; ``facts`` turns live objects or records into the plain
facts the checks judge.  Nothing here imports the host or the judge.
"""
