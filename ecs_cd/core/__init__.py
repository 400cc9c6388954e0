"""What the stacks, the constructs and the release command line share: names, AWS formats, image strategies.

No cdktf here: the release command line imports this without the provider bindings.
"""
