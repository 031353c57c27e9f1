using Tokenizer.Core.Errors;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Core.Validation;

/// <summary>Shape rules for identifiers and free text shared by every request.</summary>
public static class InputRules
{
    /// <summary>The rule text for idempotency keys.</summary>
    public const string IdempotencyKeyRule = "must be 1-255 printable ASCII characters";

    /// <summary>The rule text for customer references.</summary>
    public const string ReferenceRule = "must be 1-128 printable ASCII characters without spaces";

    /// <summary>The rule text for a reference in the namespace kept for erased subjects (<see cref="ReservedReferencePrefix"/>).</summary>
    public const string ReservedPrefixRule = "reserved prefix";

    /// <summary>
    /// The prefix of the reference an erased subject's tokens carry for the rest of their retention
    /// (<see cref="Privacy.SubjectPseudonyms.ErasedReference"/>): <c>erased_subj_</c>. References are compared ordinally
    /// (the ledgers' <c>customer_reference = @customer_reference</c> is case-sensitive on SQLite and PostgreSQL, and the
    /// pseudonym is an HMAC of the exact bytes), so only this exact, lower-case prefix is the erased namespace.
    /// </summary>
    public const string ReservedReferencePrefix = Privacy.SubjectPseudonyms.ErasedPrefix + Privacy.SubjectPseudonyms.Prefix;

    /// <summary>The rule text for token ids.</summary>
    public const string TokenIdRule = "must be a token id of 1-255 letters, digits or underscores holding no card number";

    /// <summary>
    /// 1-255 printable ASCII (0x21-0x7E), Stripe's Idempotency-Key limit, holding no card or bank number, labelled CVC
    /// or escape of another encoding (<see cref="CheckIdempotencyKey"/>).
    /// </summary>
    public static bool IsValidIdempotencyKey(string? key) => CheckIdempotencyKey(key, "idempotency_key", []);

    /// <summary>
    /// Checks an idempotency key and adds one violation naming <paramref name="field"/>: <see cref="FreeTextRule.CardOrBankNumber"/>
    /// or <see cref="FreeTextRule.Cvc"/> when it holds one (<see cref="FreeTextRule.FindCardOrBankNumber"/>), else
    /// <see cref="IdempotencyKeyRule"/> for its shape (1-255 printable ASCII, 0x21-0x7E, Stripe's Idempotency-Key limit),
    /// else <see cref="FreeTextRule.EncodedCharacters"/> for an escape (<c>%34</c>, <c>&amp;#52;</c>).
    /// </summary>
    /// <remarks>
    /// Keys are never stored, logged, audited or echoed in clear (the ledger keeps a keyed HMAC; gateway keys are derived
    /// from it), yet a CVC must not be kept even inside a keyed hash, and a caller's own logs hold its keys: so keys meet
    /// the free-text rule. A key that is a GUID (32 hex digits, with or without dashes, braces or parentheses: the CLI's
    /// default and the billing service's keys) is not searched: its digits chained across dashes pass Luhn about one time
    /// in a hundred by chance, and hex holds no label. A key that is a ULID (26 Crockford base32 chars) is searched with
    /// letters ending a number (<see cref="SensitiveDataDetectorOptions.LettersEndNumbers"/>: a PAN run by run of
    /// consecutive digits), and for IBANs and labelled CVCs and account numbers as any text is
    /// (<c>0000000CVC123ABCDEFGHJKMNP</c> is refused).
    /// </remarks>
    /// <returns>True when valid.</returns>
    public static bool CheckIdempotencyKey(string? key, string field, List<FieldViolation> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        var isGuid = key is { Length: <= 38 } && Guid.TryParse(key, out _);
        var found = isGuid ? null
            : IsUlid(key) ? SensitiveDataDetector.FindCardOrBankNumber(key, SensitiveDataDetectorOptions.ValidationOfUlid)
            : key is { Length: <= 4096 } ? FreeTextRule.FindCardOrBankNumber(key) : null;
        if (found is { } kind)
        {
            violations.Add(new FieldViolation(field, kind == SensitiveDataKind.Cvc ? FreeTextRule.Cvc : FreeTextRule.CardOrBankNumber));
            return false;
        }

        if (key is not { Length: >= 1 and <= 255 } || !key.All(c => c is >= '!' and <= '~'))
        {
            violations.Add(new FieldViolation(field, IdempotencyKeyRule));
            return false;
        }

        if (!isGuid && FreeTextRule.HasEncodedCharacter(key))
        {
            violations.Add(new FieldViolation(field, FreeTextRule.EncodedCharacters));
            return false;
        }

        return true;
    }

    /// <summary>A ULID: 26 Crockford base32 chars (no I, L, O, U; either case), the first 0-7 (48-bit time).</summary>
    private static bool IsUlid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? key) =>
        key is { Length: 26 } && key[0] is >= '0' and <= '7'
        && key.All(c => char.IsAsciiDigit(c) || (char.IsAsciiLetter(c) && char.ToUpperInvariant(c) is not ('I' or 'L' or 'O' or 'U')));

    /// <summary>
    /// 1-128 printable ASCII without spaces, holding no card or bank account number
    /// (<see cref="FreeTextRule.HoldsCardOrBankNumber"/>): references are stored and listed in clear, and a PAN-shaped one
    /// cannot be told from a PAN at rest.
    /// </summary>
    public static bool IsValidReference(string? reference) =>
        IsReferenceShaped(reference) && !FreeTextRule.HoldsCardOrBankNumber(reference) && !FreeTextRule.HasEncodedCharacter(reference);

    /// <summary>
    /// Checks a customer reference and adds one violation naming <paramref name="field"/>: <see cref="FreeTextRule.CardOrBankNumber"/>
    /// (or <see cref="FreeTextRule.Cvc"/>) when it holds one, else <see cref="ReferenceRule"/> for its shape.
    /// </summary>
    /// <returns>True when valid.</returns>
    public static bool CheckReference(string? reference, string field, List<FieldViolation> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        if (reference is { Length: <= 4096 } && FreeTextRule.FindCardOrBankNumber(reference) is { } kind)
        {
            violations.Add(new FieldViolation(field, kind == SensitiveDataKind.Cvc ? FreeTextRule.Cvc : FreeTextRule.CardOrBankNumber));
            return false;
        }

        if (!IsReferenceShaped(reference))
        {
            violations.Add(new FieldViolation(field, ReferenceRule));
            return false;
        }

        // References are stored and listed in clear: an escape (%EF%BC%94 is a full-width 4) could write a number the
        // detector does not read.
        if (FreeTextRule.HasEncodedCharacter(reference))
        {
            violations.Add(new FieldViolation(field, FreeTextRule.EncodedCharacters));
            return false;
        }

        return true;
    }

    /// <summary>True when <paramref name="reference"/> begins with <see cref="ReservedReferencePrefix"/> (ordinal).</summary>
    public static bool IsReservedReference(string? reference) =>
        reference?.StartsWith(ReservedReferencePrefix, StringComparison.Ordinal) == true;

    /// <summary>
    /// Checks the reference of a data subject a call acts for (a tokenisation, a privacy export, correction, erasure or
    /// status): <see cref="CheckReference"/>, then <see cref="ReservedPrefixRule"/> for a reference in the erased
    /// namespace, so no new token or personal data joins an erased subject's kept tokens and no privacy call answers for
    /// one erased person as if it were another. Filters that only read (ListTokens, reconciliation) use
    /// <see cref="CheckReference"/> and may name an erased pseudonym.
    /// </summary>
    /// <returns>True when valid.</returns>
    public static bool CheckSubjectReference(string? reference, string field, List<FieldViolation> violations)
    {
        if (!CheckReference(reference, field, violations))
        {
            return false;
        }

        if (IsReservedReference(reference))
        {
            violations.Add(new FieldViolation(field, ReservedPrefixRule));
            return false;
        }

        return true;
    }

    /// <summary>
    /// A gateway or run id: letters, digits and underscores, 1-255, holding no card or bank number (ids are looked up,
    /// audited and stored; gateway ids are random base62, so no real one is refused).
    /// </summary>
    public static bool IsValidTokenId(string? token) =>
        IsTokenIdShaped(token) && !FreeTextRule.HoldsCardOrBankNumber(token);

    /// <summary>
    /// The shape of an id alone: letters, digits and underscores, 1-255. For ids the service itself issued or stores
    /// (the ledger's rows and page positions), where a caller's id has already passed <see cref="IsValidTokenId"/>.
    /// </summary>
    public static bool IsTokenIdShaped([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? token) =>
        token is { Length: >= 1 and <= 255 } && token.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static bool IsReferenceShaped([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? reference) =>
        reference is { Length: >= 1 and <= 128 } && reference.All(c => c is >= '!' and <= '~');

    /// <summary>
    /// Removes control characters (including CR/LF), invisible format characters (e.g. U+202E right-to-left override)
    /// and line/paragraph separators, then trims; null or empty stays null. Such characters forge log lines or
    /// disguise text shown to people. For text the service writes about a call (the audit trail); caller input is
    /// never cleaned this way: <see cref="FreeTextRule"/> refuses it.
    /// </summary>
    public static string? CleanText(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var cleaned = string.Concat(value.Where(c => !IsInvisible(c))).Trim();
        return cleaned.Length == 0 ? null : cleaned;
    }

    private static bool IsInvisible(char c) => char.GetUnicodeCategory(c) is
        System.Globalization.UnicodeCategory.Control
        or System.Globalization.UnicodeCategory.Format
        or System.Globalization.UnicodeCategory.LineSeparator
        or System.Globalization.UnicodeCategory.ParagraphSeparator;
}
