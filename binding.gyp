# Sources and per-ISA flags come from native/sources.json via scripts/sources.cjs (the one source list).
# One static library per ISA group so that only those files get the ISA's -m flags. Every target shares
# st_cflags and target_defaults; each library adds only its group's sources and flags. (st_cflags and -std=c++17
# are listed per target, not as target_defaults, so they keep their place after node-gyp's own flags.)
{
  "variables": {
    "st_cflags": [
      "-O3",
      "-fPIC",
      "-fvisibility=hidden",
      "-fno-math-errno"
    ]
  },
  "target_defaults": {
    "cflags_cc!": [
      "-fno-exceptions",
      "-std=gnu++17",
      "-std=gnu++20",
      "-std=c++20"
    ],
    "xcode_settings": {
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
    }
  },
  "targets": [
    {
      "target_name": "st_core",
      "type": "static_library",
      "sources": [
        "<!@(node scripts/sources.cjs core)"
      ],
      "include_dirs": [
        "native"
      ],
      "cflags": [
        "<@(st_cflags)",
        "<!@(node scripts/sources.cjs core --flags)"
      ],
      "cflags_cc": [
        "-std=c++17"
      ],
      "xcode_settings": {
        "OTHER_CFLAGS": [
          "<@(st_cflags)",
          "<!@(node scripts/sources.cjs core --flags)"
        ]
      }
    },
    {
      "target_name": "simdtensor",
      "sources": [
        "<!@(node scripts/sources.cjs binding)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags": [
        "<@(st_cflags)"
      ],
      "cflags_cc": [
        "-std=c++17"
      ],
      "cflags_cc!": [
        "-fno-rtti"
      ],
      "dependencies": [
        "st_core"
      ],
      "conditions": [
        [
          "target_arch=='x64'",
          {
            "dependencies": [
              "st_avx2",
              "st_avxvnni",
              "st_avx512",
              "st_avx512vnni",
              "st_avx512bf16",
              "st_avx512fp16",
              "st_amx"
            ]
          }
        ],
        [
          "target_arch=='arm64'",
          {
            "dependencies": [
              "st_neon",
              "st_neondot",
              "st_neonfp16",
              "st_neoni8mm"
            ]
          }
        ]
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CFLAGS": [
          "<@(st_cflags)"
        ]
      }
    }
  ],
  "conditions": [
    [
      "target_arch=='x64'",
      {
        "targets": [
          {
            "target_name": "st_avx2",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx2)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs avx2 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs avx2 --flags)"
              ]
            }
          },
          {
            "target_name": "st_avxvnni",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avxvnni)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs avxvnni --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs avxvnni --flags)"
              ]
            }
          },
          {
            "target_name": "st_avx512",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx512)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs avx512 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs avx512 --flags)"
              ]
            }
          },
          {
            "target_name": "st_avx512vnni",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx512vnni)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs avx512vnni --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs avx512vnni --flags)"
              ]
            }
          },
          {
            "target_name": "st_avx512bf16",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx512bf16)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs avx512bf16 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs avx512bf16 --flags)"
              ]
            }
          },
          {
            "target_name": "st_avx512fp16",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs avx512fp16)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs avx512fp16 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs avx512fp16 --flags)"
              ]
            }
          },
          {
            "target_name": "st_amx",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs amx)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs amx --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs amx --flags)"
              ]
            }
          }
        ]
      }
    ],
    [
      "target_arch=='arm64'",
      {
        "targets": [
          {
            "target_name": "st_neon",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs neon)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs neon --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs neon --flags)"
              ]
            }
          },
          {
            "target_name": "st_neondot",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs neondot)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs neondot --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs neondot --flags)"
              ]
            }
          },
          {
            "target_name": "st_neonfp16",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs neonfp16)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs neonfp16 --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs neonfp16 --flags)"
              ]
            }
          },
          {
            "target_name": "st_neoni8mm",
            "type": "static_library",
            "sources": [
              "<!@(node scripts/sources.cjs neoni8mm)"
            ],
            "include_dirs": [
              "native"
            ],
            "cflags": [
              "<@(st_cflags)",
              "<!@(node scripts/sources.cjs neoni8mm --flags)"
            ],
            "cflags_cc": [
              "-std=c++17"
            ],
            "xcode_settings": {
              "OTHER_CFLAGS": [
                "<@(st_cflags)",
                "<!@(node scripts/sources.cjs neoni8mm --flags)"
              ]
            }
          }
        ]
      }
    ]
  ]
}
