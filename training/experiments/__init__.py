"""Runs not kept: patches to retrace them (``git apply``) and checks that measured them."""
