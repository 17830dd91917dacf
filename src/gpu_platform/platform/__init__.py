"""The whole platform of one environment: its spec (the stack config), the rules across its
sections, and the Platform component that composes every other component from it."""
