// Package orders holds the Go types edagen generated from the schema
// ../schemas/com.example.orders@OrderPlaced.json (go generate in the
// parent directory writes orders.go again; its test checks that it is
// current).
package orders
