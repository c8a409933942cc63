// Placeholder: this suite's tests arrive with its issue's work.
