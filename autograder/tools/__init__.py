"""Tools for people, run on the host: the command line, JupyterLab for the course, the demo class, samples."""
