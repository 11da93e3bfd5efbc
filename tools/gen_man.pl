#!/usr/bin/perl
# gen_man.pl - man pages of audit(1) and of each command, audit-CMD(1), written from the --help
# text of the built binary, so that a man page cannot say something --help does not:
#
#   perl tools/gen_man.pl BUILD/audit docs/spec-file.md OUTDIR
#
# `audit --help` gives audit.1 and the list of commands; `audit CMD --help` gives audit-CMD.1.
# audit-run.1 also gets the spec file's reference (its keys, checks and outputs), converted from
# docs/spec-file.md. tests/cli/test_man.py renders the pages with man(1) and compares them with
# --help. Needs only perl-base (Essential on Debian), so `make install` works on a bare system.
use strict;
use warnings;

die "usage: gen_man.pl AUDIT_BIN SPEC_FILE_MD OUTDIR\n" unless @ARGV == 3;
my ($bin, $spec_md, $outdir) = @ARGV;

sub help_of {
    my @args = @_;
    open(my $fh, '-|', $bin, @args, '--help') or die "gen_man.pl: cannot run $bin: $!\n";
    local $/;
    my $text = <$fh>;
    close($fh) or die "gen_man.pl: '$bin @args --help' failed\n";
    return $text;
}

# roff escapes for a line of plain text: backslash, dashes (\- renders as an ASCII hyphen-minus,
# so options can be copied from the page), and a leading control character.
sub esc {
    my ($s) = @_;
    $s =~ s/\\/\\e/g;
    $s =~ s/-/\\-/g;
    $s =~ s/^([.'])/\\&$1/;
    return $s;
}

# An option spec such as "--data FILE" or "-h, --help": option names bold, the rest roman.
sub optspec {
    my ($s) = @_;
    return join('', map { /^-/ ? '\fB' . esc($_) . '\fR' : esc($_) } split /([ ,|]+)/, $s);
}

# Markdown inline markup of docs/spec-file.md: `code` bold, **strong** bold.
sub md_inline {
    my ($s) = @_;
    my $out = '';
    for my $part (split /(`[^`]*`|\*\*[^*]+\*\*)/, $s) {
        if ($part =~ /^`(.*)`$/s || $part =~ /^\*\*(.*)\*\*$/s) {
            $out .= '\fB' . esc($1) . '\fR';
        } else {
            $out .= esc($part);
        }
    }
    $out =~ s/^([.'])/\\&$1/;
    return $out;
}

# --help text -> roff sections. The help layout (see audit/cmd_*.c): "usage:" lines, description
# paragraphs, "options:" (or "commands:") with entries "  SPEC  text" and deeper-indented
# continuation lines, then paragraphs; a line "exit codes: ..." starts the exit status.
sub help_to_roff {
    my ($help) = @_;
    my @lines = split /\n/, $help;
    my ($synopsis, @out) = ('');
    # usage: the first line and the indented lines after it, kept as laid out
    my $first = shift @lines;
    $first =~ s/^usage: // or die "gen_man.pl: help does not start with 'usage:'\n";
    my @syn = ($first);
    push @syn, substr(shift @lines, 7) while @lines && $lines[0] =~ /^ {7}/;
    $synopsis = ".SH SYNOPSIS\n.nf\n" . join("\n", map { esc($_) } @syn) . "\n.fi\n";
    my $section = 'DESCRIPTION';
    my $opened = '';
    my $in_list = 0;
    my $desc_col = 0;    # column of the entries' text in the current list
    my $para = 0;        # inside a text paragraph
    my $open = sub {
        my ($name) = @_;
        return if $opened eq $name;
        push @out, ".SH $name\n";
        $opened = $name;
        $para = 0;
    };
    for my $line (@lines) {
        if ($line =~ /^\s*$/) {
            $in_list = 0;
            $para = 0;
            next;
        }
        if ($line =~ /^(options|commands|exit codes|global options):\s*(.*)$/) {
            my ($label, $rest) = ($1, $2);
            if ($label eq 'options' || $label eq 'commands') {
                $open->(uc $label);
                $in_list = 1;
                $desc_col = 0;
                next;
            }
            if ($label eq 'exit codes') {
                $open->('EXIT STATUS');
                push @out, ".PP\n";
                push @out, esc($rest) . "\n";
                $para = 1;
                next;
            }
            # "global options: --quiet (errors only)": a paragraph of the options section
            $open->($label =~ /options/ ? 'OPTIONS' : uc $label);
            push @out, ".PP\n" . esc("$label: $rest") . "\n";
            $para = 1;
            next;
        }
        if ($in_list && $line =~ /^  (\S.*)$/) {
            my ($spec, $text) = split /\s{2,}/, $1, 2;
            if (defined $text) {
                $desc_col = length($line) - length($text);
            } elsif ($desc_col && length($line) > $desc_col
                     && substr($line, $desc_col - 1, 1) eq ' ') {
                # "  --created TIME provenance...": one space, but the text is in its column
                ($spec, $text) = (substr($line, 2, $desc_col - 3), substr($line, $desc_col));
                $spec =~ s/\s+$//;
            }
            push @out, ".TP\n" . optspec($spec) . "\n";
            push @out, esc($text) . "\n" if defined $text;
            next;
        }
        if ($in_list && $line =~ /^\s{3,}(\S.*)$/) {
            push @out, esc($1) . "\n";
            next;
        }
        if ($line =~ /^ +(\S.*)$/ && !$para) {
            # an indented line of its own after a list: a literal example line
            $open->($opened eq '' ? 'DESCRIPTION' : $opened);
            push @out, ".PP\n.nf\n" . esc($1) . "\n.fi\n";
            next;
        }
        if (!$para) {
            $section = $opened eq 'OPTIONS' || $opened eq 'COMMANDS' ? 'NOTES'
                     : $opened eq '' ? 'DESCRIPTION' : $opened;
            $open->($section);
            push @out, ".PP\n";
            $para = 1;
        }
        my $text = $line;
        $text =~ s/^\s+//;
        push @out, esc($text) . "\n";
    }
    return ($synopsis, join('', @out));
}

# docs/spec-file.md -> roff: "#" title dropped, "##" sub-sections, paragraphs, and tables as
# tagged paragraphs (first cell the tag; the others "header: value", a "meaning" unlabelled).
sub spec_to_roff {
    my ($path) = @_;
    open(my $fh, '<', $path) or die "gen_man.pl: cannot read $path: $!\n";
    my @lines = <$fh>;
    close $fh;
    chomp @lines;
    my @out = (".SH \"SPEC FILE\"\n");
    my @header;
    my $para = 0;
    for (my $i = 0; $i < @lines; $i++) {
        my $line = $lines[$i];
        if ($line =~ /^# /) { next; }
        if ($line =~ /^## (.*)$/) {
            push @out, '.SS ' . esc($1) . "\n";
            $para = 0;
            @header = ();
            next;
        }
        if ($line =~ /^\s*$/) { $para = 0; @header = (); next; }
        if ($line =~ /^\|/) {
            my @cells = map { s/^\s+|\s+$//gr } split /(?<!\\)\|/, $line;
            shift @cells;    # before the first '|'
            if (!@header) {
                @header = @cells;
                $i++ if $i + 1 < @lines && $lines[$i + 1] =~ /^\|[-| :]+\|$/;
                next;
            }
            push @out, ".TP\n" . md_inline($cells[0]) . "\n";
            for my $c (1 .. $#cells) {
                next if $cells[$c] eq '';
                my $h = $header[$c] // '';
                push @out, ".br\n" if $c > 1;
                push @out, ($h eq 'meaning' || $h eq '' ? '' : '\fI' . esc($h) . ':\fR ')
                    . md_inline($cells[$c]) . "\n";
            }
            $para = 0;
            next;
        }
        push @out, ".PP\n" unless $para;
        $para = 1;
        push @out, md_inline($line) . "\n";
    }
    return join('', @out);
}

my $main_help = help_of();
(my $version = `$bin --version`) =~ s/\s+$//;
my @commands;    # [name, one-line description]
for (split /\n/, $main_help) {
    push @commands, [$1, $2] if /^  audit ([a-z]+) .*?\S\s{2,}(\S.*)$/;
}
die "gen_man.pl: no commands found in '$bin --help'\n" unless @commands;

my $see_also = join(",\n", map { '\fBaudit\-' . esc($_->[0]) . '\fR(1)' } @commands);
my %extra = (
    run => spec_to_roff($spec_md) . <<'EOF',
.SH EXAMPLES
The Debian package installs the demo audit of the bundled synthetic loan book; its
verdict is FAIL on purpose (exit status 1):
.PP
.nf
audit run /usr/share/doc/audit/examples/demo_audit.json \-\-out demo\-out
.fi
EOF
);

sub write_page {
    my ($file, $title, $name_line, $help, $extra, $see) = @_;
    my ($synopsis, $body) = help_to_roff($help);
    open(my $fh, '>', "$outdir/$file") or die "gen_man.pl: cannot write $outdir/$file: $!\n";
    print $fh ".\\\" generated by tools/gen_man.pl from '$title --help'; do not edit\n";
    print $fh '.TH ' . uc(esc($file =~ s/\.1$//r)) . " 1 \"\" \"" . esc($version)
        . "\" \"User Commands\"\n";
    print $fh ".nh\n.ad l\n";
    print $fh ".SH NAME\n" . esc($name_line) . "\n";
    print $fh $synopsis, $body, $extra // '';
    print $fh ".SH \"SEE ALSO\"\n$see\n";
    print $fh ".PP\nThe documents of the docs/ folder of the source, which the Debian package\n"
        . "installs in /usr/share/doc/audit/.\n";
    close($fh) or die "gen_man.pl: cannot write $outdir/$file: $!\n";
}

(my $summary = (split /\n\n/, $main_help)[1]) =~ s/\.\s*$//;
write_page('audit.1', 'audit', 'audit - ' . lcfirst($summary), $main_help, undef, $see_also);
for my $c (@commands) {
    my ($name, $desc) = @$c;
    write_page("audit-$name.1", "audit $name", "audit-$name - $desc", help_of($name),
               $extra{$name}, '\fBaudit\fR(1)');
}
