package main

import (
	"bufio"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/inventory"
)

type row struct {
	id   int
	host inventory.Host
}

// actionKeys returns, for $action, the action keys of a provider.
func actionKeys(b *broker.Broker) func(string) []string { return b.ActionKeys }

// printTable prints rows with the inventory_fields columns.
func printTable(e *env, b *broker.Broker, rows []row) {
	cols := b.Settings().InventoryFields()
	header := make([]string, 0, len(cols)+1)
	header = append(header, "Id")
	for _, c := range cols {
		header = append(header, c.Title)
	}
	ak := actionKeys(b)
	cells := make([][]string, 0, len(rows))
	for _, r := range rows {
		line := make([]string, 0, len(cols)+1)
		line = append(line, idString(r.id))
		for _, c := range cols {
			line = append(line, inventory.Render(c.Spec, r.host, ak))
		}
		cells = append(cells, line)
	}
	writeColumns(e, header, cells)
}

func idString(id int) string {
	if id < 0 {
		return "-"
	}
	return strconv.Itoa(id)
}

// writeColumns writes aligned columns (two spaces apart), header first.
func writeColumns(e *env, header []string, cells [][]string) {
	ncol := len(header)
	for _, line := range cells {
		ncol = max(ncol, len(line))
	}
	width := make([]int, ncol)
	for _, line := range append([][]string{header}, cells...) {
		for i, c := range line {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	defer w.Flush()
	put := func(line []string) {
		var sb strings.Builder
		for i, c := range line {
			sb.WriteString(c)
			if i < len(line)-1 {
				sb.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)+2))
			}
		}
		w.WriteString(strings.TrimRight(sb.String(), " "))
		w.WriteByte('\n')
	}
	if header != nil {
		put(header)
	}
	for _, line := range cells {
		put(line)
	}
}
