import Builder
import HostSystem
import Testing

struct WordExpansionTests {
    static let environment = ["A": "a", "EMPTY": "", "SPACE": "x y", "PATH": "/bin"]

    @Test(arguments: [
        ("$A", "a"), ("${A}", "a"), ("${A}b", "ab"), ("$Ab", ""), ("$A/b", "a/b"), ("pre$A", "prea"),
        ("${UNSET:-def}", "def"), ("${EMPTY:-def}", "def"), ("${A:-def}", "a"),
        ("${UNSET-def}", "def"), ("${EMPTY-def}", ""),
        ("${A:+alt}", "alt"), ("${EMPTY:+alt}", ""), ("${UNSET:+alt}", ""),
        ("${EMPTY+alt}", "alt"), ("${UNSET+alt}", ""),
        ("${UNSET:-${A}}", "a"), ("${A:-${UNSET:-nested}}", "a"), ("${UNSET:-'q w'}", "q w"),
        ("'$A'", "$A"), ("\"$A\"", "a"), ("\"'$A'\"", "'a'"), ("\\$A", "$A"), ("a\\ b", "a b"),
        ("\"a\\\"b\"", "a\"b"), ("\"a\\zb\"", "a\\zb"), ("\"a\\$A\"", "a$A"), ("'a\\b'", "a\\b"),
        ("$", "$"), ("a$", "a$"), ("$1", ""), ("$@", ""), ("foo\\", "foo"), ("$PATH:/usr/bin", "/bin:/usr/bin"),
        ("${SPACE}", "x y"), ("  spaced  ", "  spaced  "), ("", ""),
    ])
    func expandsLikeDockersLexer(word: String, expected: String) throws {
        #expect(try WordExpander().expand(word, environment: Self.environment) == expected)
    }

    @Test func backtickEscapeLeavesBackslashesLiteral() throws {
        let expander = WordExpander(escape: "`")
        #expect(try expander.expand("c:\\dir\\$A", environment: Self.environment) == "c:\\dir\\a")
        #expect(try expander.expand("`$A", environment: Self.environment) == "$A")
        #expect(try expander.expand("\"x`\"y\"", environment: Self.environment) == "x\"y")
    }

    @Test func wordsSplitOnlyAtUnquotedWhitespace() throws {
        let words = try WordExpander().expandToWords("$SPACE \"q r\" 'a b'c \\ d", environment: Self.environment)
        #expect(words == ["x", "y", "q r", "a bc", " d"])
    }

    @Test(arguments: [
        ("${A", "failed to process \"${A\": syntax error: missing '}'"),
        ("${", "failed to process \"${\": syntax error: missing '}'"),
        ("${}", "failed to process \"${}\": syntax error: bad substitution"),
        ("${:-x}", "failed to process \"${:-x}\": syntax error: bad substitution"),
        ("${A:-x", "failed to process \"${A:-x\": syntax error: missing '}'"),
        ("'abc", "failed to process \"'abc\": unexpected end of statement while looking for matching single-quote"),
        ("\"abc", "failed to process \"\\\"abc\": unexpected end of statement while looking for matching double-quote"),
        ("${A%x}", "failed to process \"${A%x}\": unsupported modifier (%) in substitution"),
        ("${A:=x}", "failed to process \"${A:=x}\": unsupported modifier (:=) in substitution"),
        ("${UNSET?}", "failed to process \"${UNSET?}\": UNSET: is not allowed to be unset"),
        ("${EMPTY:?must be set}", "failed to process \"${EMPTY:?must be set}\": EMPTY: must be set"),
    ])
    func malformedWordsFailWithDockersMessages(word: String, message: String) {
        #expect(throws: SwiftletError(message, code: .invalidArgument)) {
            try WordExpander().expand(word, environment: Self.environment)
        }
    }

    @Test func requiredVariablesThatAreSetExpand() throws {
        #expect(try WordExpander().expand("${A?}${EMPTY?}${A:?no}", environment: Self.environment) == "aa")
    }
}
