# SPDX-License-Identifier: MPL-2.0
# Warning flags for every target (STYLE.md "Build and CI").
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes
                    -Wmissing-prototypes -Wformat=2 -Wvla -Wno-format-nonliteral)
if(ENABLE_WERROR)
  add_compile_options(-Werror)
endif()
