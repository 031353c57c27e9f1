using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Validation;

/// <summary>Validates requests before any gateway call. PLACEHOLDER: being implemented.</summary>
public sealed class RequestValidator(TimeProvider timeProvider)
{
    private readonly TimeProvider time = timeProvider;

    /// <summary>Validates and normalises a TokenizeCard request; throws TokenizerException (INVALID_ARGUMENT) listing every violation.</summary>
    public ValidatedCardRequest ValidateCard(TokenizeCardCommand command) => throw new NotImplementedException(time.ToString());

    /// <summary>Validates and normalises a TokenizeBankAccount request; throws TokenizerException (INVALID_ARGUMENT) listing every violation.</summary>
    public ValidatedBankAccountRequest ValidateBankAccount(TokenizeBankAccountCommand command) => throw new NotImplementedException();
}
