package io.quaver.cli;

/// Entry point of `./quaver`.
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("quaver: CLI under construction");
    }
}
