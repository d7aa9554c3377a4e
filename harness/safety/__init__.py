"""Run-time safety: a check cannot hang the run, kill it, leak a secret or lose its report."""
