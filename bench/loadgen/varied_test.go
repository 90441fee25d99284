package main

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	trace "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// send is what load sends as its n-th request with -values varied.
func send(p *payload, n, shift uint64) []byte {
	b := p.withFreshIDs(n)
	p.vary(b, n, shift)
	return b
}

func spansOf(t *testing.T, b []byte) []*trace.Span {
	t.Helper()
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		t.Fatalf("not an ExportTraceServiceRequest: %v", err)
	}
	return req.ResourceSpans[0].ScopeSpans[0].Spans
}

func attrMap(s *trace.Span) map[string]*common.AnyValue {
	m := map[string]*common.AnyValue{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func keys(s *trace.Span) string {
	var k []string
	for _, kv := range s.Attributes {
		k = append(k, kv.Key)
	}
	return strings.Join(k, ",")
}

// Two sends of one payload: valid OTLP of the payload's size, keys and names, whose per-call values
// differ from each other and from the payload's.
func TestSendsVary(t *testing.T) {
	for _, tc := range []struct {
		shape string
		build func(*rand.Rand, int) *payload
	}{{"llm", llmRequest}, {"agent", agentRequest}, {"content", contentRequest}} {
		t.Run(tc.shape, func(t *testing.T) {
			p := tc.build(rand.New(rand.NewPCG(1, 2)), 100)
			const shiftA, shiftB = 1_000_000, 7_000_000_000
			a, b := send(p, 5, shiftA), send(p, 6, shiftB)
			if len(a) != len(p.bytes) || len(b) != len(p.bytes) {
				t.Fatalf("sizes %d, %d; the payload's %d", len(a), len(b), len(p.bytes))
			}
			tmpl, sa, sb := spansOf(t, p.bytes), spansOf(t, a), spansOf(t, b)
			// A count of 1..127 and a content with one digit (9 variants) may come out the same in two
			// sends; most may not.
			counts, callIDs, contents, sameCounts, sameContents := 0, 0, 0, 0, 0
			for i, s0 := range tmpl {
				x, y := sa[i], sb[i]
				if x.Name != s0.Name || y.Name != s0.Name || keys(x) != keys(s0) || keys(y) != keys(s0) {
					t.Fatalf("span %d: names or keys changed: %q %q %q / %q %q %q", i, s0.Name, x.Name, y.Name, keys(s0), keys(x), keys(y))
				}
				d := s0.EndTimeUnixNano - s0.StartTimeUnixNano
				for _, c := range []struct {
					s     *trace.Span
					shift uint64
				}{{x, shiftA}, {y, shiftB}} {
					if c.s.StartTimeUnixNano != s0.StartTimeUnixNano+c.shift {
						t.Fatalf("span %d: start %d, want the payload's %d moved by %d", i, c.s.StartTimeUnixNano, s0.StartTimeUnixNano, c.shift)
					}
					if e := c.s.EndTimeUnixNano - c.s.StartTimeUnixNano; e > d || e < d*7/10 {
						t.Fatalf("span %d: lasts %d, outside 70-100%% of %d", i, e, d)
					}
					for j, ev := range c.s.Events {
						if ev.TimeUnixNano != s0.Events[j].TimeUnixNano+c.shift {
							t.Fatalf("span %d: event time not moved with the span", i)
						}
					}
				}
				if x.EndTimeUnixNano-x.StartTimeUnixNano == y.EndTimeUnixNano-y.StartTimeUnixNano {
					t.Errorf("span %d: the same duration in both sends", i)
				}
				m0, mx, my := attrMap(s0), attrMap(x), attrMap(y)
				for _, k := range []string{"gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"} {
					if v0, ok := m0[k]; ok {
						counts++
						if vx, vy := mx[k].GetIntValue(), my[k].GetIntValue(); vx == vy || vx == v0.GetIntValue() {
							sameCounts++
						}
					}
				}
				if v0, ok := m0["gen_ai.tool.call.id"]; ok {
					callIDs++
					vx, vy := mx["gen_ai.tool.call.id"].GetStringValue(), my["gen_ai.tool.call.id"].GetStringValue()
					if vx == vy || vx == v0.GetStringValue() || !strings.HasPrefix(vx, callIDPrefix) || len(vx) != len(v0.GetStringValue()) {
						t.Errorf("span %d: tool call ids %q, %q (payload %q)", i, vx, vy, v0.GetStringValue())
					}
				}
				for _, k := range []string{"input.value", "output.value"} {
					if v0, ok := m0[k]; ok {
						contents++
						vx, vy := mx[k].GetStringValue(), my[k].GetStringValue()
						if !json.Valid([]byte(vx)) || !json.Valid([]byte(vy)) {
							t.Fatalf("span %d: %s is no longer JSON: %s", i, k, vx)
						}
						if !strings.ContainsAny(v0.GetStringValue(), "0123456789") {
							continue
						}
						if vx == v0.GetStringValue() || vy == v0.GetStringValue() {
							t.Errorf("span %d: %s as in the payload", i, k)
						}
						if vx == vy {
							sameContents++
						}
					}
				}
			}
			if counts == 0 || (tc.shape != "llm" && callIDs == 0) || (tc.shape == "content") != (contents > 0) {
				t.Fatalf("varied fields found: %d token counts, %d tool call ids, %d contents", counts, callIDs, contents)
			}
			if sameCounts > counts/10 || sameContents > contents/4 {
				t.Errorf("the same in both sends or as in the payload: %d of %d token counts, %d of %d contents", sameCounts, counts, sameContents, contents)
			}
			if tc.shape == "content" {
				sameTrace(t, sa)
			}
		})
	}
}

// A tool's result varied as its copy in the conversation the next LLM call carries is.
func sameTrace(t *testing.T, spans []*trace.Span) {
	t.Helper()
	var result string
	for _, s := range spans {
		m := attrMap(s)
		if s.Name == "execute_tool search_kb" {
			result = m["output.value"].GetStringValue()
		} else if s.Name == "chat gpt-4o" && result != "" {
			quoted, _ := json.Marshal(result)
			if !strings.Contains(m["input.value"].GetStringValue(), string(quoted)) {
				t.Fatalf("the LLM call after search_kb does not carry its result as the tool returned it")
			}
			return
		}
	}
	t.Fatal("no search_kb result followed by an LLM call")
}
