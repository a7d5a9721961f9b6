#pragma once
// Named choices of a config (gate mode, method, loss, ...): an `enum class` whose enumerators are
// 0..N-1 in the order of a name table. Declare the table with a `choiceNames(E)` overload found by
// argument-dependent lookup; toString() and parseChoice() then work for the enum. The names are
// the strings of the JSON format, so a config reads and writes the same text as before.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace sllmr {

template <class E>
concept NamedChoice = std::is_enum_v<E> && requires(E e)
{
    {
        choiceNames(e)
        } -> std::convertible_to<std::span<const char* const>>;
};

template <NamedChoice E>
std::string toString(E value)
{
    return choiceNames(value)[static_cast<std::size_t>(value)];
}

// The enumerator named `text`, or none.
template <NamedChoice E>
std::optional<E> parseChoice(std::string_view text)
{
    const std::span<const char* const> names = choiceNames(E{});
    for (std::size_t k = 0; k < names.size(); ++k)
        if (text == names[k])
            return static_cast<E>(k);
    return std::nullopt;
}

}  // namespace sllmr
