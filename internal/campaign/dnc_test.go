package campaign_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/campaign"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/page"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"(312) 555-0100", "+13125550100"},
		{"312.555.0100", "+13125550100"},
		{"1-312-555-0100", "+13125550100"},
		{"+1 312 555 0100", "+13125550100"},
		{" 3125550100 ", "+13125550100"},
		{"+44 20 7946 0958", "+442079460958"},
		{"", ""},
		{"555-0100", ""},
		{"(000) 555-0100", ""},
		{"not a number", ""},
		{"+1 312 555 0100 0000 0000 0000 0000", ""},
	}
	for _, tt := range tests {
		got, err := campaign.NormalizePhone(tt.in)
		if tt.want == "" {
			require.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}

func TestDNCAddIsIdempotentAndCancelsTargets(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	waiting := f.audienceOf(t, phoneN(1))
	retrying := f.audienceOf(t, phoneN(2))
	inCall := f.audienceOf(t, phoneN(3))
	c := f.draft(t)
	_, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET status = 'retry' WHERE customer_id = $1`, retrying)
	require.NoError(t, err)
	_, err = f.db.Owner.Exec(ctx, `UPDATE campaign_targets SET status = 'in_call' WHERE customer_id = $1`, inCall)
	require.NoError(t, err)
	// Another tenant's target with the same number is not theirs to cancel.
	other := f.newOrg(t)
	otherSvc := *f.svc
	otherCust := f.customer(t, other, customerOpts{Phone: phoneN(1)})
	f.record(t, other, otherCust, recordOpts{ServiceDate: day(2025, 6, 1)})
	oc, err := otherSvc.Create(ctx, other, validInput())
	require.NoError(t, err)
	_, err = otherSvc.Launch(ctx, other, oc.ID)
	require.NoError(t, err)

	e, created, err := f.svc.AddDNC(ctx, f.org, campaign.DNCInput{Phone: "(312) 555-0001", Reason: " stop calling "})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "+13125550001", e.Phone)
	require.Equal(t, "stop calling", e.Reason)
	require.Equal(t, campaign.DNCManual, e.Source)

	again, created, err := f.svc.AddDNC(ctx, f.org, campaign.DNCInput{Phone: "+1 312-555-0001", Reason: "other"})
	require.NoError(t, err)
	require.False(t, created, "a listed number is not added twice")
	require.Equal(t, e, again, "the existing entry, unchanged")
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM dnc_entries WHERE organization_id = $1`, f.org))

	for _, phone := range []string{"(312) 555-0002", "(312) 555-0003"} {
		_, _, err = f.svc.AddDNC(ctx, f.org, campaign.DNCInput{Phone: phone})
		require.NoError(t, err)
	}
	tg := f.targets(t, c.ID)
	for _, id := range []uuid.UUID{waiting, retrying} {
		require.Equal(t, "cancelled", tg[id].Status)
		require.Equal(t, "dnc", *tg[id].SkipReason)
		require.Equal(t, "block", *tg[id].Decision)
		require.Equal(t, "dnc", *tg[id].Rule)
	}
	require.Equal(t, "in_call", tg[inCall].Status, "a call in progress is not cut")
	require.Equal(t, "pending", f.targets(t, oc.ID)[otherCust].Status, "tenants are apart")
	require.Equal(t, 3, f.count(t, `SELECT count(*) FROM audit_logs WHERE entity = 'dnc_entry' AND organization_id = $1`, f.org))

	_, _, err = f.svc.AddDNC(ctx, f.org, campaign.DNCInput{Phone: "12"})
	requireField(t, err, "body.phone")
}

func TestDNCListGetDelete(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	a, _, err := f.svc.AddDNC(ctx, f.org, campaign.DNCInput{Phone: "(312) 555-0101"})
	require.NoError(t, err)
	b, _, err := f.svc.AddDNC(ctx, f.org, campaign.DNCInput{Phone: "(415) 555-0102"})
	require.NoError(t, err)

	all, _, err := f.svc.ListDNC(ctx, f.org, campaign.DNCFilter{}, page.Request{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []campaign.DNCEntry{b, a}, all)
	found, _, err := f.svc.ListDNC(ctx, f.org, campaign.DNCFilter{Phone: "(312) 555"}, page.Request{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []campaign.DNCEntry{a}, found)
	none, _, err := f.svc.ListDNC(ctx, f.org, campaign.DNCFilter{Source: campaign.DNCImported}, page.Request{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, none)
	_, _, err = f.svc.ListDNC(ctx, f.org, campaign.DNCFilter{Phone: "abc"}, page.Request{Limit: 10})
	requireField(t, err, "query.phone")

	got, err := f.svc.GetDNC(ctx, f.org, a.ID)
	require.NoError(t, err)
	require.Equal(t, a, got)
	_, err = f.svc.GetDNC(ctx, f.newOrg(t), a.ID)
	require.True(t, fault.Is(err, fault.NotFound))

	require.NoError(t, f.svc.DeleteDNC(ctx, f.org, a.ID))
	_, err = f.svc.GetDNC(ctx, f.org, a.ID)
	require.True(t, fault.Is(err, fault.NotFound))
	err = f.svc.DeleteDNC(ctx, f.org, a.ID)
	require.True(t, fault.Is(err, fault.NotFound))
}

func TestDNCImport(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	pending := f.audienceOf(t, phoneN(4))
	c := f.draft(t)
	_, err := f.svc.Launch(ctx, f.org, c.ID)
	require.NoError(t, err)
	_, _, err = f.svc.AddDNC(ctx, f.org, campaign.DNCInput{Phone: phoneN(1)})
	require.NoError(t, err)

	file := "\ufeffName,Phone,Reason\n" +
		"Ann,(312) 555-0001,already listed\n" + // line 2
		"Bob,312-555-0002,moved\n" + // 3
		"Cat,not a phone,\n" + // 4
		"Dan,312 555 0002,duplicate of line 3\n" + // 5
		"Eve,,\n" + // 6
		"Fay,+13125550004,cancels a target\n" + // 7
		"Gus\n" // 8: too few cells
	rep, err := f.svc.ImportDNC(ctx, f.org, strings.NewReader(file))
	require.NoError(t, err)
	require.Equal(t, 7, rep.Rows)
	require.Equal(t, 2, rep.Added)
	require.Equal(t, 1, rep.AlreadyListed)
	require.Equal(t, 1, rep.Duplicates)
	require.Equal(t, 3, rep.Invalid)
	require.Equal(t, int64(1), rep.TargetsCancelled)
	require.Len(t, rep.Errors, 3)
	require.Equal(t, campaign.DNCRowError{Line: 4, Column: "Phone", Reason: `phone "not a phone" is not a phone number`}, rep.Errors[0])
	require.Equal(t, 6, rep.Errors[1].Line)
	require.Equal(t, "phone is empty", rep.Errors[1].Reason)
	require.Equal(t, 8, rep.Errors[2].Line)

	e, _, err := f.svc.AddDNC(ctx, f.org, campaign.DNCInput{Phone: phoneN(2)})
	require.NoError(t, err)
	require.Equal(t, campaign.DNCImported, e.Source)
	require.Equal(t, "moved", e.Reason)
	require.Equal(t, "cancelled", f.targets(t, c.ID)[pending].Status)
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM audit_logs WHERE entity = 'dnc_import' AND entity_id = $1`, rep.ID.String()))

	// The same file again adds nothing.
	rep, err = f.svc.ImportDNC(ctx, f.org, strings.NewReader(file))
	require.NoError(t, err)
	require.Equal(t, 0, rep.Added)
	require.Equal(t, 3, rep.AlreadyListed)
	require.Equal(t, 3, f.count(t, `SELECT count(*) FROM dnc_entries`))

	_, err = f.svc.ImportDNC(ctx, f.org, strings.NewReader("name,email\nAnn,a@example.com\n"))
	requireField(t, err, "body")
}

func TestParseDNCFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		phones  []string
		errors  []campaign.DNCRowError
		invalid string // fault message substring, when the file is refused
	}{
		{name: "single column, no header", file: "3125550101\n(312) 555-0102\n", phones: []string{"+13125550101", "+13125550102"}},
		{name: "single column, any header", file: "Numbers\r\n3125550101\r\n", phones: []string{"+13125550101"}},
		{name: "single column, bad first row", file: "312-555\n3125550101\n", phones: []string{"+13125550101"},
			errors: []campaign.DNCRowError{{Line: 1, Column: "phone", Reason: `phone "312-555" is not a valid phone number`}}},
		{name: "header any case", file: "PHONE\n3125550101\n", phones: []string{"+13125550101"}},
		{name: "semicolons", file: "id;phone_number;notes\n1;3125550101;x\n", phones: []string{"+13125550101"}},
		{name: "tabs", file: "phone\treason\n3125550101\t\n", phones: []string{"+13125550101"}},
		{name: "byte-order mark", file: "\ufeffphone\n3125550101\n", phones: []string{"+13125550101"}},
		{name: "quoted cells", file: "\"phone\",\"reason\"\n\"(312) 555-0101\",\"said, stop\"\n", phones: []string{"+13125550101"}},
		{name: "blank lines", file: "phone,reason\n\n3125550101,x\n,\n", phones: []string{"+13125550101"},
			errors: []campaign.DNCRowError{{Line: 4, Column: "phone", Reason: "phone is empty"}}},
		{name: "bare quote", file: "phone\n31255\"50101\n3125550102\n", phones: []string{"+13125550102"},
			errors: []campaign.DNCRowError{{Line: 2, Column: "", Reason: `bare " in non-quoted-field`}}},
		{name: "empty", file: "", invalid: "no rows"},
		{name: "only a BOM", file: "\ufeff", invalid: "no rows"},
		{name: "no phone column", file: "a,b\n1,2\n", invalid: "no phone column"},
		{name: "unreadable first line", file: "\"phone\n", invalid: "first line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := campaign.ParseDNCFile(strings.NewReader(tt.file))
			if tt.invalid != "" {
				require.True(t, fault.Is(err, fault.Invalid), "got %v", err)
				var fe *fault.Error
				require.ErrorAs(t, err, &fe)
				require.Contains(t, fe.Message+" "+fe.Fields[0].Message, tt.invalid)
				return
			}
			require.NoError(t, err)
			var phones []string
			for _, e := range f.Entries {
				phones = append(phones, e.Phone)
			}
			require.Equal(t, tt.phones, phones)
			require.Equal(t, tt.errors, f.Errors)
			require.Equal(t, len(tt.errors), f.Invalid)
		})
	}
}

func TestParseDNCFileLimits(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("phone\n")
	for range 150 {
		b.WriteString("bad\n")
	}
	f, err := campaign.ParseDNCFile(strings.NewReader(b.String()))
	require.NoError(t, err)
	require.Equal(t, 150, f.Invalid)
	require.Len(t, f.Errors, 100, "the first 100 errors are kept")

	b.Reset()
	for range campaign.MaxDNCImportRows + 1 {
		b.WriteString("3125550101\n")
	}
	_, err = campaign.ParseDNCFile(strings.NewReader(b.String()))
	require.True(t, fault.Is(err, fault.Invalid), "got %v", err)
}

func FuzzParseDNCFile(f *testing.F) {
	f.Add("phone,reason\n3125550101,x\n")
	f.Add("3125550101\n")
	f.Add("\ufeffa;phone\n1;(312) 555-0101\n")
	f.Add("phone\n\"31\"2\n")
	f.Fuzz(func(t *testing.T, file string) {
		got, err := campaign.ParseDNCFile(strings.NewReader(file))
		if err != nil {
			require.True(t, fault.Is(err, fault.Invalid), "only invalid-input errors: %v", err)
			return
		}
		require.Equal(t, got.Rows, len(got.Entries)+got.Invalid)
		require.LessOrEqual(t, len(got.Errors), 100)
		for _, e := range got.Entries {
			again, err := campaign.NormalizePhone(e.Phone)
			require.NoError(t, err)
			require.Equal(t, e.Phone, again, "entries are E.164")
		}
	})
}
