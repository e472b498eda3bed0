module github.com/rovd/rovd

go 1.26
