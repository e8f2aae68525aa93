#include "secrets/SecretPrompter.h"

namespace opsdeck {

// Defined out of line so the vtable is emitted once, here.
SecretPrompter::~SecretPrompter() = default;

} // namespace opsdeck
