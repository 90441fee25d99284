package main

import (
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// With -values varied (the default), every send varies in place what differs on every call of a real
// agent, in fields of fixed width so that the request's size and keys stay those of -values fixed
// (the load before it, which repeated these values on every 64th send and so flattered every cache
// keyed by value):
//   - the timestamps: every span's start and event times move with the clock of the load, and every
//     span lasts 70-100% of its pre-encoded duration (never longer, so children still end inside
//     their agent span and before the next step starts);
//   - gen_ai.usage.input_tokens and output_tokens: a new count of the same varint width;
//   - gen_ai.tool.call.id: new characters after its "call_" prefix;
//   - input.value and output.value (the content shape): each trace's digits (document ids, dates,
//     ticket numbers, scores) substituted by a permutation of 0-9 of its own that moves every digit,
//     so a tool's result and its copy in the conversation the next LLM call carries stay equal to
//     each other, and the JSON stays JSON with the same structure (letters are left alone: they
//     include keys and roles). A content with one digit (the first LLM call's input) has 9 variants.
//
// What a real agent repeats stays as it is: model, provider, server addresses and URLs (the tools'
// endpoints carry no ids), tool and span names, the MCP session.
type sites struct {
	spans    []spanSite
	events   []int       // offsets of the events' time_unix_nano (fixed64)
	counts   []countSite // token counts
	callIDs  []textSite  // tool call ids, after their prefix
	contents []digitSite // digits in input.value/output.value
	traces   int
}

type spanSite struct{ start, end int } // offsets of start_time_unix_nano and end_time_unix_nano (fixed64)
type countSite struct{ at, width int } // offset and byte width of a varint
type textSite struct{ at, n int }
type digitSite struct{ at, trace int }

const callIDPrefix = "call_"

// findSites walks ExportTraceServiceRequest -> ResourceSpans(1) -> ScopeSpans(2) -> Span(2) and
// records where the varied values sit.
func findSites(b []byte) (sites, error) {
	var s sites
	traceOf := map[string]int{}
	err := fields(b, 0, func(num protowire.Number, typ protowire.Type, at int, v []byte) error {
		if num != 1 || typ != protowire.BytesType {
			return nil
		}
		return fields(v, at, func(num protowire.Number, typ protowire.Type, at int, v []byte) error {
			if num != 2 || typ != protowire.BytesType {
				return nil
			}
			return fields(v, at, func(num protowire.Number, typ protowire.Type, at int, v []byte) error {
				if num != 2 || typ != protowire.BytesType {
					return nil
				}
				return s.span(v, at, traceOf)
			})
		})
	})
	s.traces = len(traceOf)
	return s, err
}

func (s *sites) span(b []byte, base int, traceOf map[string]int) error {
	sp := spanSite{start: -1, end: -1}
	trace := -1
	var attrs [][2]int // value slices of the attributes, as offset and length, read once the trace is known
	err := fields(b, base, func(num protowire.Number, typ protowire.Type, at int, v []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			t, ok := traceOf[string(v)]
			if !ok {
				t = len(traceOf)
				traceOf[string(v)] = t
			}
			trace = t
		case num == 7 && typ == protowire.Fixed64Type:
			sp.start = at
		case num == 8 && typ == protowire.Fixed64Type:
			sp.end = at
		case num == 9 && typ == protowire.BytesType:
			attrs = append(attrs, [2]int{at, len(v)})
		case num == 11 && typ == protowire.BytesType:
			return fields(v, at, func(num protowire.Number, typ protowire.Type, at int, _ []byte) error {
				if num == 1 && typ == protowire.Fixed64Type {
					s.events = append(s.events, at)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if sp.start < 0 || sp.end < 0 || trace < 0 {
		return fmt.Errorf("span at %d without trace id, start or end time", base)
	}
	s.spans = append(s.spans, sp)
	for _, a := range attrs {
		if err := s.attribute(b[a[0]-base:a[0]-base+a[1]], a[0], trace); err != nil {
			return err
		}
	}
	return nil
}

// attribute records a KeyValue's value if its key is one of the varied ones.
func (s *sites) attribute(b []byte, base, trace int) error {
	var key string
	var value []byte
	valueAt := -1
	err := fields(b, base, func(num protowire.Number, typ protowire.Type, at int, v []byte) error {
		if typ == protowire.BytesType && num == 1 {
			key = string(v)
		} else if typ == protowire.BytesType && num == 2 {
			value, valueAt = v, at
		}
		return nil
	})
	if err != nil || valueAt < 0 {
		return err
	}
	return fields(value, valueAt, func(num protowire.Number, typ protowire.Type, at int, v []byte) error {
		switch {
		case num == 3 && typ == protowire.VarintType && (key == "gen_ai.usage.input_tokens" || key == "gen_ai.usage.output_tokens"):
			s.counts = append(s.counts, countSite{at, len(v)})
		case num == 1 && typ == protowire.BytesType && key == "gen_ai.tool.call.id":
			if len(v) > len(callIDPrefix) && string(v[:len(callIDPrefix)]) == callIDPrefix {
				s.callIDs = append(s.callIDs, textSite{at + len(callIDPrefix), len(v) - len(callIDPrefix)})
			}
		case num == 1 && typ == protowire.BytesType && (key == "input.value" || key == "output.value"):
			for i := 0; i < len(v); i++ {
				switch c := v[i]; {
				case c == '\\' && i+1 < len(v) && v[i+1] == 'u':
					i += 5 // a \uXXXX escape: its hex digits are not the text's
				case c == '\\':
					i++
				case c >= '0' && c <= '9':
					s.contents = append(s.contents, digitSite{at + i, trace})
				}
			}
		}
		return nil
	})
}

// fields calls fn for every field of message b, whose first byte is at offset `base` of the
// request, with the offset and bytes of its value (a length-delimited field's payload, a varint's
// bytes, a fixed64's 8 bytes).
func fields(b []byte, base int, fn func(num protowire.Number, typ protowire.Type, at int, v []byte) error) error {
	for i := 0; i < len(b); {
		num, typ, l := protowire.ConsumeTag(b[i:])
		if l < 0 {
			return protowire.ParseError(l)
		}
		i += l
		head := 0
		if typ == protowire.BytesType {
			_, head = protowire.ConsumeVarint(b[i:])
			if head < 0 {
				return protowire.ParseError(head)
			}
		}
		l = protowire.ConsumeFieldValue(num, typ, b[i:])
		if l < 0 {
			return protowire.ParseError(l)
		}
		if err := fn(num, typ, base+i+head, b[i+head:i+l]); err != nil {
			return err
		}
		i += l
	}
	return nil
}

// vary writes send n's values into b, a copy of the payload's bytes, whose timestamps move by
// `shift` nanoseconds. The values are a function of n: a run is reproducible.
func (p *payload) vary(b []byte, n uint64, shift uint64) {
	r := splitmix{n}
	for _, sp := range p.spans {
		start := binary.LittleEndian.Uint64(p.bytes[sp.start:])
		d := binary.LittleEndian.Uint64(p.bytes[sp.end:]) - start
		binary.LittleEndian.PutUint64(b[sp.start:], start+shift)
		binary.LittleEndian.PutUint64(b[sp.end:], start+shift+d-d/1000*(r.next()%300))
	}
	for _, at := range p.events {
		binary.LittleEndian.PutUint64(b[at:], binary.LittleEndian.Uint64(p.bytes[at:])+shift)
	}
	for _, c := range p.counts {
		// Every value of the varint's width: 1..127 in one byte, 128..16383 in two.
		lo := uint64(1)
		if c.width > 1 {
			lo = 1 << (7 * (c.width - 1))
		}
		v := lo + r.next()%(1<<(7*c.width)-lo)
		protowire.AppendVarint(b[c.at:c.at], v) // in place: v has the width of the bytes it replaces
	}
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for _, t := range p.callIDs {
		for i := range t.n {
			b[t.at+i] = alnum[r.next()%uint64(len(alnum))]
		}
	}
	if len(p.contents) == 0 {
		return
	}
	perms := make([][10]byte, p.traces)
	for t := range perms {
		perms[t] = derangement(&r)
	}
	for _, d := range p.contents {
		b[d.at] = perms[d.trace][p.bytes[d.at]-'0']
	}
}

// derangement returns a permutation of the digits that moves every digit (one in ~2.7 shuffles is
// one), so that every content with a digit differs from the payload's.
func derangement(r *splitmix) [10]byte {
	for {
		var perm [10]byte
		for i := range perm {
			perm[i] = byte('0' + i)
		}
		for i := 9; i > 0; i-- {
			j := r.next() % uint64(i+1)
			perm[i], perm[j] = perm[j], perm[i]
		}
		moved := true
		for i, d := range perm {
			moved = moved && d != byte('0'+i)
		}
		if moved {
			return perm
		}
	}
}

// splitmix is SplitMix64: a cheap generator whose sequence is a function of its seed.
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
