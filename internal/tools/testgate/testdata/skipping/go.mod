module example.com/skipping

go 1.26
